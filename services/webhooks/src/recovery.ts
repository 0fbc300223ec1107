/**
 * Recovery of deliveries, for the console and the API (`webhookDeliveries.resend|recover`):
 * a delivery goes back to `pending`, due now, with a fresh retry schedule; the workers take it
 * at their next look (every process polls). Its `webhook-id` stays the event id, so a receiver
 * that already has the event recognizes the resend.
 *
 * A delivery a worker holds (its attempt is in flight) is not touched: the attempt under way
 * decides its state, and resending it at the same time would send it twice at once.
 */
import type { SqlExecutor } from '@quorum/db';

export type ResendOutcome = 'resent' | 'in_flight' | 'not_found';

/** A new attempt of one delivery of `orgId`, now, whatever its state. */
export async function resendDelivery(
  sql: SqlExecutor,
  input: { orgId: string; deliveryId: string; now: Date },
): Promise<ResendOutcome> {
  const { rows } = await sql.query<{ resent: boolean }>(
    `WITH d AS (SELECT id, claimed_until FROM webhook_deliveries WHERE id = $1 AND org_id = $2),
     u AS (
       UPDATE webhook_deliveries w SET status = 'pending', next_attempt_at = $3, round_attempts = 0, failed_at = NULL
       FROM d WHERE w.id = d.id AND (d.claimed_until IS NULL OR d.claimed_until <= $3)
       RETURNING w.id)
     SELECT EXISTS (SELECT 1 FROM u) AS resent FROM d`,
    [input.deliveryId, input.orgId, input.now],
  );
  if (rows.length === 0) return 'not_found';
  return rows[0]!.resent ? 'resent' : 'in_flight';
}

/**
 * Every failed delivery of an endpoint of `orgId` made since `since` goes out again; per stream
 * in log order, as any pending delivery does. Returns how many.
 */
export async function recoverDeliveries(
  sql: SqlExecutor,
  input: { orgId: string; endpointId: string; since: Date; now: Date },
): Promise<number> {
  const { rowCount } = await sql.query(
    `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $4, round_attempts = 0, failed_at = NULL
     WHERE org_id = $1 AND endpoint_id = $2 AND status = 'failed' AND created_at >= $3`,
    [input.orgId, input.endpointId, input.since, input.now],
  );
  return rowCount;
}
