import { authedProcedure, router } from '../trpc';
import { listEvents } from './events.handler';
import { ListEventsInputSchema } from './events.schema';
import { liveEvents, LiveEventsInputSchema } from './events.live';

export const eventsRouter = router({
  list: authedProcedure.input(ListEventsInputSchema).query(({ ctx, input }) => listEvents(ctx, input)),
  live: authedProcedure
    .input(LiveEventsInputSchema)
    .subscription(({ ctx, input, signal }) => liveEvents(ctx, input, signal)),
});
