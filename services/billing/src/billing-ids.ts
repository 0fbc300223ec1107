/** Ids and Idempotency-Keys the billing sync derives from the events that cause its calls. */
import { uuidV5 } from '@quorum/eventstore';

export const BILLING_NAMESPACE = '8f1c2a6d-4b3e-4f7a-9c5d-2e8b7a1f6c04';

/** The id of the billing event `type` appended in answer to `causeEventId`. */
export function outcomeEventId(type: string, causeEventId: string, attempt = 1): string {
  return uuidV5(BILLING_NAMESPACE, `${type}|${causeEventId}|${attempt}`);
}

/**
 * The Idempotency-Key of a call made for an event: the same on every repeat of that event, so
 * Stripe answers a repeat within its 24-hour window with the first answer instead of acting twice.
 * Operator retries of a dead letter add the attempt, since Stripe keeps a key's refusal too.
 */
export function idempotencyKey(operation: string, causeEventId: string, attempt = 1): string {
  return attempt === 1 ? `quorum-${operation}-${causeEventId}` : `quorum-${operation}-${causeEventId}-${attempt}`;
}

/** The id of `billing.reconciliation_completed` of one organization, month and run. */
export function reconciliationEventId(orgId: string, period: string, run: string): string {
  return uuidV5(BILLING_NAMESPACE, `billing.reconciliation_completed|${orgId}|${period}|${run}`);
}
