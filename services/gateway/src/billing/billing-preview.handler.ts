/**
 * `billing.preview`: an organization's invoice for one month as it stands, for its owners and
 * billing members. Seats are prorated by the second over the stretches of quantity and plan
 * the seat timeline holds, meeting minutes are priced at the plan in force at the month's end
 * (`invoicePreview` in `@quorum/domain`; docs/metering.md#invoice-preview). In the current month
 * what is in force now is priced to the month's end, and usage is what has been metered so far.
 */
import type { BillingPreviewInput } from '@quorum/api/schemas';
import { invoicePreview, periodBounds, streamIds } from '@quorum/domain';
import { authorizePeriodRead } from '../period-access';
import { previewStretchesOf } from './preview-stretches';
import type { Context, Principal } from '../trpc';

type Authed = Context & { principal: Principal };

export async function billingPreview(ctx: Authed, input: BillingPreviewInput & { minPosition?: string | undefined }) {
  // The checks of the usage reads, in their order: position, organization and role, then period.
  await authorizePeriodRead(ctx, input, 'billing.preview');
  const month = periodBounds(input.period);
  const facts = await ctx.deps.billing.previewFacts(
    input.orgId,
    input.period,
    new Date(month.from),
    new Date(month.to),
  );
  const [customerId, invoices] = await Promise.all([
    ctx.deps.billingSync.customerOf(input.orgId),
    ctx.deps.billingSync.invoicesOf(input.orgId, new Date(month.from), new Date(month.to)),
  ]);
  const stretches = previewStretchesOf(input.orgId, facts.stretches);
  const preview = invoicePreview({ period: input.period, stretches, meetingSeconds: facts.meetingSeconds });
  const now = ctx.deps.now();
  return {
    orgId: input.orgId,
    ...preview,
    asOf: now.toISOString(),
    /** Whether the month is over; usage settled late (minutes after its end) may still be added. */
    monthEnded: now.getTime() >= month.to,
    /** Stripe's side: whether billing is synced, the organization's Customer, and Stripe's invoices of the month. */
    stripe: { connected: ctx.deps.stripeConnected, customerId, invoices },
    usage: {
      meter: 'meeting_minutes' as const,
      seconds: facts.meetingSeconds,
      records: facts.meetingRecords,
      streamId: streamIds.usage(input.orgId, input.period),
    },
    seatHolders: facts.holdings,
  };
}
