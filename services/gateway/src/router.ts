import { apiKeysRouter } from './api-keys/api-keys.router';
import { authRouter } from './auth/auth.router';
import { billingRouter } from './billing/billing.router';
import { eventsRouter } from './events/events.router';
import { financeRouter } from './finance/finance.router';
import { meetingsRouter } from './meetings/meetings.router';
import { sfuRouter } from './meetings/sfu.router';
import { membersRouter } from './members/members.router';
import { orgRouter } from './orgs/org.router';
import { seatsRouter } from './seats/seats.router';
import { router } from './trpc';
import { usageRouter } from './usage/usage.router';
import { webhooksRouter } from './webhooks/webhooks.router';
import { webhookDeliveriesRouter } from './webhooks/deliveries.router';

export const appRouter = router({
  auth: authRouter,
  org: orgRouter,
  members: membersRouter,
  seats: seatsRouter,
  apiKeys: apiKeysRouter,
  events: eventsRouter,
  meetings: meetingsRouter,
  sfu: sfuRouter,
  usage: usageRouter,
  billing: billingRouter,
  finance: financeRouter,
  webhooks: webhooksRouter,
  webhookDeliveries: webhookDeliveriesRouter,
});

/** The API's type, for typed clients (`@quorum/api`). */
export type AppRouter = typeof appRouter;
