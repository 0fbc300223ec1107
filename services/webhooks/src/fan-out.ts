/**
 * The fan-out: one durable consumer of every event on the bus. In log order it folds the
 * organizations' endpoint events (`webhooks-<orgId>`) into `webhook_endpoint_targets`, and for
 * each public event inserts one delivery per endpoint of its organization that takes its type
 * and existed before it (enabled, paused or disabled; not deleted).
 *
 * Exactly-once effects: the log, not the bus, is read (the bus says how far; gaps are filled
 * from the store), under a lock per fan-out name with its checkpoint in the same transaction,
 * so instances sharing the durable apply each event once and in order. Deliveries are keyed
 * by (endpoint, event) with `ON CONFLICT DO NOTHING`, so a second durable replaying the log from
 * the start adds nothing, and an endpoint event is folded only past the last one applied.
 */
import type { Consumer, DeliveredMessage, EventBus } from '@quorum/bus';
import type { SqlDatabase, SqlExecutor } from '@quorum/db';
import { isPublicEventType, toPublicEvent, WEBHOOKS_EVENT_DATA_SCHEMAS, type WebhooksEventType } from '@quorum/domain';
import { parseWireEvent, uuidV5, type EventStore, type WireEvent } from '@quorum/eventstore';
import { withGapsFilled } from '@quorum/projector/gap-fill';
import type { Logger } from 'pino';

/** Namespace of delivery ids: uuid v5 of `<endpointId>:<eventId>`. */
const DELIVERY_NAMESPACE = '6f1d3c52-8f0e-4f57-9d4e-3b1c2a7e5d90';

/** The id of the delivery of `eventId` to `endpointId`: the same however often it is derived. */
export function deliveryId(endpointId: string, eventId: string): string {
  return uuidV5(DELIVERY_NAMESPACE, `${endpointId}:${eventId}`);
}

type TargetStatus = 'enabled' | 'paused' | 'disabled' | 'deleted';

interface Target {
  endpointId: string;
  orgId: string;
  url: string;
  eventTypes: string[];
  status: TargetStatus;
  createdPosition: bigint;
  appliedPosition: bigint;
  enabledPosition: bigint;
  dirty: boolean;
}

interface NewDelivery {
  id: string;
  endpointId: string;
  orgId: string;
  eventId: string;
  eventType: string;
  streamId: string;
  position: string;
  body: string;
}

export interface FanOutOptions {
  store: EventStore;
  bus: EventBus;
  sql: SqlDatabase;
  logger: Logger;
  /** Durable consumer name, and the checkpoint's. */
  durableName: string;
  /** The gateway's public origin, for the envelope's `dataschema`. */
  publicUrl: string;
  now: () => Date;
  /** Told when deliveries were added, so workers of this process claim them at once. */
  onDeliveries: (count: number) => void;
}

const RETRY_MS = 500;
/** How often the checkpoint of quiet batches (nothing to deliver, see `apply`) is written. */
const QUIET_CHECKPOINT_MS = 1_000;

function isEndpointEvent(type: string): type is WebhooksEventType {
  return Object.hasOwn(WEBHOOKS_EVENT_DATA_SCHEMAS, type);
}

export class FanOut {
  private consumer: Consumer | undefined;
  private closed = false;
  private fannedOut = 0;
  /** The checkpoint this instance last read or wrote: where its gap filling starts. */
  private known: bigint | undefined;
  /** A quiet batch's position not yet written, and the timer that writes it. */
  private quietCheckpoint: bigint | undefined;
  private quietTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: FanOutOptions) {}

  async start(): Promise<void> {
    this.consumer = await this.options.bus.consume({
      durableName: this.options.durableName,
      maxBatch: 500,
      batchHandler: (messages) => this.handle(messages),
      onError: (error) => this.options.logger.warn({ err: error }, 'webhook fan-out: bus error'),
    });
  }

  /** Deliveries this process added since start. */
  get deliveriesAdded(): number {
    return this.fannedOut;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.consumer?.close();
    clearTimeout(this.quietTimer);
    await this.writeQuietCheckpoint();
  }

  /**
   * Retries here rather than throwing: a batch handed back would come again behind later
   * messages, and the log order is what keeps each stream's deliveries in order.
   */
  private async handle(messages: readonly DeliveredMessage[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const added = await this.apply(messages);
        this.fannedOut += added;
        if (added > 0) this.options.onDeliveries(added);
        return;
      } catch (err) {
        if (this.closed) throw err;
        this.options.logger.warn({ err, attempt }, 'webhook fan-out: a batch failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_MS * attempt, 5_000)));
      }
    }
  }

  /**
   * The store is read before the transaction (on PGlite both share one session, which the
   * transaction holds), from the checkpoint this instance last knew; inside it, under the lock,
   * events at or below the checkpoint another instance moved meanwhile are dropped. Four round
   * trips in the transaction: the lock with the checkpoint, the targets, the deliveries with the
   * new checkpoint, the commit (and the targets' changes when there are any).
   */
  private async apply(messages: readonly DeliveredMessage[]): Promise<number> {
    this.known ??= await this.checkpoint();
    const ordered = await withGapsFilled(this.options.store, this.options.logger, messages, this.known);
    if (ordered.length === 0) return 0;
    const events: WireEvent[] = [];
    for (const message of ordered) {
      try {
        events.push(parseWireEvent(message.payload));
      } catch (err) {
        this.options.logger.warn({ err, id: message.id }, 'webhook fan-out: not an event envelope; skipped');
      }
    }
    const top = ordered[ordered.length - 1]!.position;
    if (await this.quiet(events)) {
      this.known = top;
      this.deferCheckpoint(top);
      return 0;
    }
    const added = await this.options.sql.transaction(async (tx) => {
      // The checkpoint is read in the statement that takes the lock, so it may be a moment old:
      // events another instance applied just before are then applied again, which adds nothing.
      const { rows } = await tx.query<{ position: string | null }>(
        `SELECT pg_advisory_xact_lock(hashtext($1)),
                (SELECT position FROM webhook_fanout_checkpoints WHERE name = $2) AS position`,
        [`webhooks-fanout:${this.options.durableName}`, this.options.durableName],
      );
      const checkpoint = BigInt(rows[0]?.position ?? '0');
      if (top <= checkpoint) return 0;
      const deliveries = await this.fanOut(
        tx,
        events.filter((e) => BigInt(e.position) > checkpoint),
      );
      const { rows: inserted } = await tx.query<{ n: string }>(
        `WITH added AS (
           INSERT INTO webhook_deliveries
             (id, endpoint_id, org_id, event_id, event_type, stream_id, position, body, next_attempt_at, created_at)
           SELECT d.*, $9::timestamptz, $9::timestamptz
           FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::bigint[], $8::text[])
             AS d(id, endpoint_id, org_id, event_id, event_type, stream_id, position, body)
           ON CONFLICT DO NOTHING
           RETURNING 1),
         moved AS (
           INSERT INTO webhook_fanout_checkpoints (name, position, updated_at) VALUES ($10, $11, now())
           ON CONFLICT (name) DO UPDATE
             SET position = GREATEST(webhook_fanout_checkpoints.position, EXCLUDED.position), updated_at = now())
         SELECT count(*) AS n FROM added`,
        [
          deliveries.map((d) => d.id),
          deliveries.map((d) => d.endpointId),
          deliveries.map((d) => d.orgId),
          deliveries.map((d) => d.eventId),
          deliveries.map((d) => d.eventType),
          deliveries.map((d) => d.streamId),
          deliveries.map((d) => d.position),
          deliveries.map((d) => d.body),
          this.options.now(),
          this.options.durableName,
          top.toString(),
        ],
      );
      return Number(inserted[0]?.n ?? 0);
    });
    this.known = top;
    return added;
  }

  /**
   * Whether `events` (everything in the log after `known` up to the batch's end) can make no
   * delivery and change no target: none is an endpoint event, and no organization of their
   * public events has an endpoint that is not deleted. Most batches are quiet (most
   * organizations have no endpoint), and a quiet batch costs this one read instead of a locked
   * transaction. The read is safe outside the lock: every endpoint event at or before `known` was
   * folded into the targets and committed before `known` was set, and every later one is among
   * `events`, so the targets it reads are at least as new as the events need.
   */
  private async quiet(events: readonly WireEvent[]): Promise<boolean> {
    const orgs = new Set<string>();
    for (const event of events) {
      if (isEndpointEvent(event.type)) return false;
      if (isPublicEventType(event.type)) orgs.add(event.orgId);
    }
    if (orgs.size === 0) return true;
    const { rows } = await this.options.sql.query(
      `SELECT 1 FROM webhook_endpoint_targets WHERE org_id = ANY($1::uuid[]) AND status <> 'deleted' LIMIT 1`,
      [[...orgs]],
    );
    return rows.length === 0;
  }

  /**
   * A quiet batch moves the checkpoint only now and then (and on close): replaying quiet events
   * after a crash adds nothing, so the checkpoint only bounds how far back a restart reads. It
   * only ever moves forward, so writing it without the lock is safe.
   */
  private deferCheckpoint(position: bigint): void {
    this.quietCheckpoint = position;
    this.quietTimer ??= setTimeout(() => {
      this.quietTimer = undefined;
      void this.writeQuietCheckpoint();
    }, QUIET_CHECKPOINT_MS);
    this.quietTimer.unref();
  }

  private async writeQuietCheckpoint(): Promise<void> {
    const position = this.quietCheckpoint;
    if (position === undefined) return;
    this.quietCheckpoint = undefined;
    try {
      await this.options.sql.query(
        `INSERT INTO webhook_fanout_checkpoints (name, position, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE
           SET position = GREATEST(webhook_fanout_checkpoints.position, EXCLUDED.position), updated_at = now()`,
        [this.options.durableName, position.toString()],
      );
    } catch (err) {
      // The next quiet batch or transaction moves it; until then a restart reads a little further back.
      this.options.logger.warn({ err }, 'webhook fan-out: could not write the checkpoint of quiet batches');
    }
  }

  private async checkpoint(): Promise<bigint> {
    const { rows } = await this.options.sql.query<{ position: string }>(
      `SELECT position FROM webhook_fanout_checkpoints WHERE name = $1`,
      [this.options.durableName],
    );
    return BigInt(rows[0]?.position ?? '0');
  }

  /** Folds `events` (in log order) and returns the deliveries they make; the targets' changes are saved in `tx`. */
  private async fanOut(tx: SqlExecutor, events: readonly WireEvent[]): Promise<NewDelivery[]> {
    const orgs = [
      ...new Set(events.filter((e) => isPublicEventType(e.type) || isEndpointEvent(e.type)).map((e) => e.orgId)),
    ];
    if (orgs.length === 0) return [];
    const targets = await this.loadTargets(tx, orgs);
    const deliveries: NewDelivery[] = [];
    for (const event of events) {
      const position = BigInt(event.position);
      if (isEndpointEvent(event.type)) this.fold(targets, event, position);
      if (!isPublicEventType(event.type)) continue;
      let body: string | undefined;
      for (const target of targets.values()) {
        if (target.orgId !== event.orgId || target.status === 'deleted') continue;
        if (position <= target.createdPosition) continue;
        if (target.eventTypes.length > 0 && !target.eventTypes.includes(event.type)) continue;
        body ??= JSON.stringify(toPublicEvent(event, this.options.publicUrl));
        deliveries.push({
          id: deliveryId(target.endpointId, event.id),
          endpointId: target.endpointId,
          orgId: event.orgId,
          eventId: event.id,
          eventType: event.type,
          streamId: event.streamId,
          position: event.position,
          body,
        });
      }
    }
    const dirty = [...targets.values()].filter((t) => t.dirty);
    if (dirty.length > 0) await this.saveTargets(tx, dirty);
    return deliveries;
  }

  private async loadTargets(tx: SqlExecutor, orgs: readonly string[]): Promise<Map<string, Target>> {
    const { rows } = await tx.query<{
      endpoint_id: string;
      org_id: string;
      url: string;
      event_types: string[];
      status: TargetStatus;
      created_position: string;
      applied_position: string;
      enabled_position: string;
    }>(
      `SELECT endpoint_id, org_id, url, event_types, status, created_position, applied_position, enabled_position
       FROM webhook_endpoint_targets WHERE org_id = ANY($1::uuid[]) ORDER BY created_position`,
      [orgs],
    );
    return new Map(
      rows.map((r) => [
        r.endpoint_id,
        {
          endpointId: r.endpoint_id,
          orgId: r.org_id,
          url: r.url,
          eventTypes: r.event_types,
          status: r.status,
          createdPosition: BigInt(r.created_position),
          appliedPosition: BigInt(r.applied_position),
          enabledPosition: BigInt(r.enabled_position),
          dirty: false,
        },
      ]),
    );
  }

  /** Applies one endpoint event to the targets in hand, unless an event at or past it already was. */
  private fold(targets: Map<string, Target>, event: WireEvent, position: bigint): void {
    const type = event.type as WebhooksEventType;
    const data = WEBHOOKS_EVENT_DATA_SCHEMAS[type].parse(event.data) as { endpointId: string };
    const existing = targets.get(data.endpointId);
    if (type === 'endpoint.created') {
      if (existing) return;
      const created = WEBHOOKS_EVENT_DATA_SCHEMAS['endpoint.created'].parse(event.data);
      targets.set(created.endpointId, {
        endpointId: created.endpointId,
        orgId: event.orgId,
        url: created.url,
        eventTypes: created.eventTypes,
        status: 'enabled',
        createdPosition: position,
        appliedPosition: position,
        enabledPosition: position,
        dirty: true,
      });
      return;
    }
    if (!existing || existing.appliedPosition >= position) return;
    existing.appliedPosition = position;
    existing.dirty = true;
    switch (type) {
      case 'endpoint.updated': {
        const updated = WEBHOOKS_EVENT_DATA_SCHEMAS['endpoint.updated'].parse(event.data);
        existing.url = updated.url;
        existing.eventTypes = updated.eventTypes;
        return;
      }
      case 'endpoint.paused':
        if (existing.status !== 'deleted') existing.status = 'paused';
        return;
      case 'endpoint.resumed':
        if (existing.status !== 'deleted') {
          existing.status = 'enabled';
          existing.enabledPosition = position;
        }
        return;
      case 'endpoint.disabled':
        if (existing.status !== 'deleted') existing.status = 'disabled';
        return;
      case 'endpoint.deleted':
        existing.status = 'deleted';
        return;
      case 'endpoint.secret_rotated':
        // The secrets are in webhook_secrets; the log only says a rotation happened.
        return;
    }
  }

  private async saveTargets(tx: SqlExecutor, targets: readonly Target[]): Promise<void> {
    await tx.query(
      `INSERT INTO webhook_endpoint_targets
         (endpoint_id, org_id, url, event_types, status, created_position, applied_position, enabled_position, updated_at)
       SELECT t.endpoint_id, t.org_id, t.url, ARRAY(SELECT jsonb_array_elements_text(t.event_types)), t.status,
              t.created_position, t.applied_position, t.enabled_position, now()
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[])
         AS t(endpoint_id, org_id, url, event_types, status, created_position, applied_position, enabled_position)
       ON CONFLICT (endpoint_id) DO UPDATE SET
         url = EXCLUDED.url, event_types = EXCLUDED.event_types, status = EXCLUDED.status,
         applied_position = EXCLUDED.applied_position, enabled_position = EXCLUDED.enabled_position,
         failing_since = CASE WHEN EXCLUDED.enabled_position > webhook_endpoint_targets.enabled_position
                              THEN NULL ELSE webhook_endpoint_targets.failing_since END,
         updated_at = now()
       WHERE webhook_endpoint_targets.applied_position < EXCLUDED.applied_position`,
      [
        targets.map((t) => t.endpointId),
        targets.map((t) => t.orgId),
        targets.map((t) => t.url),
        targets.map((t) => JSON.stringify(t.eventTypes)),
        targets.map((t) => t.status),
        targets.map((t) => t.createdPosition.toString()),
        targets.map((t) => t.appliedPosition.toString()),
        targets.map((t) => t.enabledPosition.toString()),
      ],
    );
  }
}
