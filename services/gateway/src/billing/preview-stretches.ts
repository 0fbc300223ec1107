/**
 * Seat stretches as the read model holds them, turned into what `invoicePreview` prices: shared
 * by `billing.preview` and the finance review, so both price a month the same way.
 */
import { PlanSchema, type PreviewStretch } from '@quorum/domain';
import type { BillingFacts } from './billing.repository';

export function previewStretchesOf(orgId: string, stretches: BillingFacts['stretches']): PreviewStretch[] {
  return stretches.map((s): PreviewStretch => {
    // A stretch without a plan holds seat events from before the organization was created,
    // which the gateway never appends; pricing it at any plan would invent a charge.
    if (s.plan === null || s.planEventId === null)
      throw new Error(`seat stretch ${s.eventId} of ${orgId} has no plan in force`);
    return { ...s, plan: PlanSchema.parse(s.plan), planEventId: s.planEventId };
  });
}
