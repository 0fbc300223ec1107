import { authedProcedure, router } from '../trpc';
import { listEvents, ListEventsInputSchema } from './events.handler';
import { liveEvents, LiveEventsInputSchema } from './events.live';

export const eventsRouter = router({
  list: authedProcedure.input(ListEventsInputSchema).query(({ ctx, input }) => listEvents(ctx, input)),
  live: authedProcedure
    .input(LiveEventsInputSchema)
    .subscription(({ ctx, input, signal }) => liveEvents(ctx, input, signal)),
});
