/**
 * Webhook delivery: the fan-out (bus → one delivery per endpoint and public event, see
 * fan-out.ts) and the workers that send them (delivery-workers.ts), over the tables of
 * packages/db/src/webhook-deliveries.schema.ts. Both run in the standalone process
 * (`src/main.ts`) and in the all-in-one's pipeline; any number of instances may share the
 * durable and the tables. See docs/webhooks.md (Delivery).
 */
import type { EventBus } from '@quorum/bus';
import type { SqlDatabase } from '@quorum/db';
import type { EventStore } from '@quorum/eventstore';
import { DEFAULT_TIMEOUT_MS, type OutboundPolicy, type Resolver } from '@quorum/webhooks';
import type { Logger } from 'pino';
import { DeliveryWorkers, type DeliveryWorkersStatus } from './delivery-workers';
import { FanOut } from './fan-out';

export { deliveryId } from './fan-out';
export { USER_AGENT } from './delivery-workers';
export { MAX_ATTEMPTS, RETRY_DELAYS_MS } from './retry-schedule';

export interface WebhooksOptions {
  store: EventStore;
  bus: EventBus;
  /** Holds the `webhook_*` tables (run `migratePublicSchema` first). */
  sql: SqlDatabase;
  logger: Logger;
  /** Durable consumer name of the fan-out; default `webhooks`. */
  durableName?: string;
  /** The gateway's public origin, for the envelope's `dataschema`. */
  publicUrl: string;
  policy: OutboundPolicy;
  /** One attempt's deadline; default 15 s. */
  timeoutMs?: number;
  /** Multiplies the retry schedule; default 1. */
  retryScale?: number;
  /** Failing this long without a success disables an endpoint; default 5 days. */
  disableAfterMs?: number;
  /** Attempts in flight at once in this process; default 32. */
  concurrency?: number;
  /** How often workers look for due deliveries unprompted; default 250 ms. */
  pollMs?: number;
  /** Turns the fan-out off: this process only sends (default on). */
  fanOut?: boolean;
  now?: () => Date;
  resolve?: Resolver;
  random?: () => number;
}

export interface WebhooksStatus extends DeliveryWorkersStatus {
  /** Deliveries the fan-out of this process added since start. */
  deliveriesAdded: number;
}

export class Webhooks {
  private readonly fanOut: FanOut | undefined;
  private readonly workers: DeliveryWorkers;
  private closing: Promise<void> | undefined;
  private readonly sql: SqlDatabase;
  private readonly now: () => Date;

  private constructor(options: WebhooksOptions) {
    const now = options.now ?? (() => new Date());
    this.sql = options.sql;
    this.now = now;
    this.workers = new DeliveryWorkers({
      sql: options.sql,
      store: options.store,
      logger: options.logger,
      now,
      policy: options.policy,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retryScale: options.retryScale ?? 1,
      disableAfterMs: options.disableAfterMs ?? 5 * 86_400_000,
      concurrency: options.concurrency ?? 32,
      pollMs: options.pollMs ?? 250,
      ...(options.resolve ? { resolve: options.resolve } : {}),
      ...(options.random ? { random: options.random } : {}),
    });
    this.fanOut =
      options.fanOut === false
        ? undefined
        : new FanOut({
            store: options.store,
            bus: options.bus,
            sql: options.sql,
            logger: options.logger,
            durableName: options.durableName ?? 'webhooks',
            publicUrl: options.publicUrl,
            now,
            onDeliveries: () => this.workers.wake(),
          });
  }

  static async create(options: WebhooksOptions): Promise<Webhooks> {
    if (!URL.canParse(options.publicUrl)) throw new Error(`publicUrl is not a URL: ${options.publicUrl}`);
    return new Webhooks(options);
  }

  /** Starts the fan-out's consumer and the workers. */
  async start(): Promise<void> {
    await this.fanOut?.start();
    this.workers.start();
  }

  /** Workers look for due deliveries now (a resend or recover from this process). */
  wake(): void {
    this.workers.wake();
  }

  /**
   * For `/health/ready`: the database answers, and how many deliveries are due now (a backlog
   * that grows means the workers do not keep up, or endpoints are down).
   */
  async readiness(): Promise<{ ok: boolean; detail: WebhooksStatus & { due: number } }> {
    const { rows } = await this.sql.query<{ due: string }>(
      `SELECT count(*) AS due FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1`,
      [this.now()],
    );
    return { ok: true, detail: { ...this.status(), due: Number(rows[0]?.due ?? 0) } };
  }

  status(): WebhooksStatus {
    return { ...this.workers.status(), deliveriesAdded: this.fanOut?.deliveriesAdded ?? 0 };
  }

  /** Stops the fan-out (finishing its batch), then the workers (recording attempts in flight). Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      await this.fanOut?.close();
      await this.workers.close();
    })());
  }
}
