/**
 * What the console and the API read and change of webhook delivery (services/webhooks): each
 * endpoint's deliveries and each delivery's attempts, scoped to one organization, and the two
 * recoveries, which the delivery engine's own module carries out (`@quorum/webhook-delivery/recovery`)
 * so the engine and the gateway agree on what a resend is.
 */
import type { Database, SqlExecutor, WebhookDeliveryStatus } from '@quorum/db';
import { recoverDeliveries, resendDelivery, type ResendOutcome } from '@quorum/webhook-delivery/recovery';
import type { Kysely } from 'kysely';

export interface DeliveryView {
  deliveryId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  streamId: string;
  /** The event's position in the log (a decimal string): the page cursor. */
  position: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  /** When the next attempt is due (pending deliveries only). */
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  failedAt: string | null;
}

export interface AttemptView {
  n: number;
  at: string;
  requestHeaders: Record<string, string>;
  status: number | null;
  responseHeaders: Record<string, string> | null;
  /** At most 4 KiB. */
  responseBody: string | null;
  durationMs: number;
  errorClass: string | null;
  errorMessage: string | null;
}

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());

export class WebhookDeliveriesRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sql: SqlExecutor,
  ) {}

  /** An endpoint's deliveries, newest event first, `limit` of them before position `before`. */
  async list(
    orgId: string,
    endpointId: string,
    options: { status?: WebhookDeliveryStatus | undefined; before?: string | undefined; limit: number },
  ): Promise<DeliveryView[]> {
    let query = this.db
      .selectFrom('webhook_deliveries')
      .select([
        'id',
        'endpoint_id',
        'event_id',
        'event_type',
        'stream_id',
        'position',
        'status',
        'attempts',
        'next_attempt_at',
        'last_status',
        'last_error',
        'created_at',
        'delivered_at',
        'failed_at',
      ])
      .where('org_id', '=', orgId)
      .where('endpoint_id', '=', endpointId);
    if (options.status) query = query.where('status', '=', options.status);
    if (options.before) query = query.where('position', '<', options.before);
    const rows = await query.orderBy('position', 'desc').limit(options.limit).execute();
    return rows.map((r) => ({
      deliveryId: r.id,
      endpointId: r.endpoint_id,
      eventId: r.event_id,
      eventType: r.event_type,
      streamId: r.stream_id,
      position: String(r.position),
      status: r.status,
      attempts: r.attempts,
      nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
      lastStatus: r.last_status,
      lastError: r.last_error,
      createdAt: iso(r.created_at)!,
      deliveredAt: iso(r.delivered_at),
      failedAt: iso(r.failed_at),
    }));
  }

  /** One delivery of `orgId` with its payload, or undefined. */
  async get(orgId: string, deliveryId: string): Promise<(DeliveryView & { payload: unknown }) | undefined> {
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', deliveryId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      deliveryId: row.id,
      endpointId: row.endpoint_id,
      eventId: row.event_id,
      eventType: row.event_type,
      streamId: row.stream_id,
      position: String(row.position),
      status: row.status,
      attempts: row.attempts,
      nextAttemptAt: row.status === 'pending' ? iso(row.next_attempt_at) : null,
      lastStatus: row.last_status,
      lastError: row.last_error,
      createdAt: iso(row.created_at)!,
      deliveredAt: iso(row.delivered_at),
      failedAt: iso(row.failed_at),
      payload: JSON.parse(row.body) as unknown,
    };
  }

  /** Every attempt of a delivery, first first. */
  async attempts(deliveryId: string): Promise<AttemptView[]> {
    const rows = await this.db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where('delivery_id', '=', deliveryId)
      .orderBy('n')
      .execute();
    return rows.map((r) => ({
      n: r.n,
      at: iso(r.at)!,
      requestHeaders: r.request_headers as Record<string, string>,
      status: r.status,
      responseHeaders: r.response_headers as Record<string, string> | null,
      responseBody: r.response_body,
      durationMs: r.duration_ms,
      errorClass: r.error_class,
      errorMessage: r.error_message,
    }));
  }

  resend(orgId: string, deliveryId: string, now: Date): Promise<ResendOutcome> {
    return resendDelivery(this.sql, { orgId, deliveryId, now });
  }

  recover(orgId: string, endpointId: string, since: Date, now: Date): Promise<number> {
    return recoverDeliveries(this.sql, { orgId, endpointId, since, now });
  }
}
