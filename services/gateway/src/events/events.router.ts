import { authedProcedure, router } from '../trpc';
import { listEvents, ListEventsInputSchema } from './events.handler';

export const eventsRouter = router({
  list: authedProcedure.input(ListEventsInputSchema).query(({ ctx, input }) => listEvents(ctx, input)),
});
