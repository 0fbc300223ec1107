/**
 * The delivery workers: claim due deliveries, send each, record the attempt and what follows.
 *
 * Claims: `FOR UPDATE SKIP LOCKED` over due pending deliveries whose endpoint is enabled, and
 * only the oldest pending delivery of each (endpoint, stream), so one stream's events reach an
 * endpoint in log order while other streams and endpoints go on. A claim is a lease (the
 * attempt's deadline and a margin), committed at once, so any number of workers in any number
 * of processes never send one delivery at the same time, and a worker that dies frees its
 * claims when their lease ends. Every attempt of a delivery carries the event id as
 * `webhook-id`, so a receiver deduplicates on it whatever was sent twice.
 */
import type { SqlDatabase } from '@quorum/db';
import { currentVersionOf, streamIds } from '@quorum/domain';
import { DuplicateEventIdError, uuidV5, type EventStore } from '@quorum/eventstore';
import {
  createWebhookSender,
  webhookHeaders,
  type OutboundPolicy,
  type Resolver,
  type SendOutcome,
  type WebhookSender,
} from '@quorum/webhooks';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import { DeliveredWriter } from './delivered-writer';
import { nextRetryDelayMs, parseRetryAfter } from './retry-schedule';

/** Namespace of `endpoint.disabled` ids: uuid v5 of `<endpointId>:disabled:<enabled position>`. */
const DISABLED_NAMESPACE = 'b7a4f2e1-5c3d-4e8a-9f6b-2d1c0e9a8b7f';

/**
 * Held past an attempt's deadline (by as long again, at most 30 s) before another worker may
 * take the delivery over: time to record the attempt after the answer.
 */
const leaseMarginMs = (timeoutMs: number) => Math.min(timeoutMs, 30_000);

export const USER_AGENT = 'Quorum-Webhooks/1';

/** Most deliveries of one stream a worker takes in one claim, to send one after another. */
const RUN_LENGTH = 50;

/** How long a woken worker loop waits for more wakes before it claims. */
const CLAIM_COALESCE_MS = 5;

export interface DeliveryWorkersOptions {
  sql: SqlDatabase;
  store: EventStore;
  logger: Logger;
  now: () => Date;
  policy: OutboundPolicy;
  timeoutMs: number;
  /** Multiplies the retry schedule. */
  retryScale: number;
  /** An endpoint failing this long since its first failure, without a success, is disabled. */
  disableAfterMs: number;
  /** Attempts in flight at once. */
  concurrency: number;
  /** How often to look for due deliveries when nothing wakes the workers. */
  pollMs: number;
  resolve?: Resolver;
  random?: () => number;
}

interface Claimed {
  id: string;
  endpoint_id: string;
  org_id: string;
  event_id: string;
  body: string;
  round_attempts: number;
  url: string;
  claim_token: string;
  stream_id: string;
  position: string;
  /** Position of the event that last enabled the endpoint, as of the claim. */
  enabled_position: string;
  /** The endpoint's valid secrets, the current one first. */
  secrets: string[];
}

/** An attempt made, to be recorded. */
interface Sent {
  at: Date;
  /** What was sent (the signature is no secret: it is derived from one). */
  headers: Record<string, string>;
  outcome: SendOutcome;
}

/** Only a 2xx delivers. */
function isSuccess(outcome: SendOutcome): boolean {
  return outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300;
}

export interface DeliveryWorkersStatus {
  inFlight: number;
  attempts: number;
  delivered: number;
  failedAttempts: number;
}

export class DeliveryWorkers {
  private readonly sender: WebhookSender;
  private closed = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private readonly counts = { attempts: 0, delivered: 0, failedAttempts: 0 };
  private readonly delivered: DeliveredWriter;

  constructor(private readonly options: DeliveryWorkersOptions) {
    this.delivered = new DeliveredWriter(options.sql);
    this.sender = createWebhookSender({
      policy: options.policy,
      timeoutMs: options.timeoutMs,
      ...(options.resolve ? { resolve: options.resolve } : {}),
    });
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Looks for due deliveries now (new ones were added, or a slot came free). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  status(): DeliveryWorkersStatus {
    return { inFlight: this.inFlight.size, ...this.counts };
  }

  /** Stops claiming and waits for the attempts in flight to be recorded. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    await this.loop;
    await Promise.all(this.inFlight);
    this.sender.close();
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      this.woken = false;
      const free = this.options.concurrency - this.inFlight.size;
      let runs: Claimed[][] = [];
      if (free > 0) {
        try {
          runs = await this.claim(free);
        } catch (err) {
          this.options.logger.warn({ err }, 'webhook delivery: claiming failed; will retry');
        }
        const claimedAt = performance.now();
        for (const run of runs) {
          const tracked = this.send(run, claimedAt).finally(() => {
            this.inFlight.delete(tracked);
            this.wake();
          });
          this.inFlight.add(tracked);
        }
      }
      if (this.closed || (runs.length === free && free > 0)) continue;
      if (!this.woken)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollMs);
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      this.wakeUp = undefined;
      // Wakes come in bursts (a batch fanned out, attempts finishing): one claim takes them all.
      await new Promise((resolve) => setTimeout(resolve, CLAIM_COALESCE_MS));
    }
  }

  /**
   * Sends one stream's run in order, each once the one before was answered with a 2xx. A
   * delivered attempt is recorded while the next is sent (order needs the answer, not the
   * write); a failure is recorded before the run stops, the rest waiting behind it. A send
   * starts only while its whole deadline still fits in the lease. What is not sent is released.
   */
  private async send(run: readonly Claimed[], claimedAt: number): Promise<void> {
    let next = 0;
    const recording: Promise<unknown>[] = [];
    const logFailure = (err: unknown, deliveryId: string | undefined) =>
      this.options.logger.error(
        { err, deliveryId },
        'webhook delivery: recording an attempt failed; its claim lapses and it is sent again',
      );
    try {
      while (next < run.length) {
        if (next > 0 && (this.closed || performance.now() - claimedAt > leaseMarginMs(this.options.timeoutMs))) break;
        const delivery = run[next]!;
        const sent = await this.post(delivery);
        next++;
        if (isSuccess(sent.outcome)) {
          recording.push(this.record(delivery, sent).catch((err: unknown) => logFailure(err, delivery.id)));
          continue;
        }
        await this.record(delivery, sent);
        break;
      }
    } catch (err) {
      logFailure(err, run[next - 1]?.id);
    }
    await Promise.all(recording);
    const rest = run.slice(next);
    if (rest.length === 0) return;
    try {
      await this.options.sql.query(
        `UPDATE webhook_deliveries SET claimed_until = NULL, claim_token = NULL WHERE id = ANY($1::uuid[]) AND claim_token = $2`,
        [rest.map((d) => d.id), rest[0]!.claim_token],
      );
    } catch (err) {
      this.options.logger.warn({ err }, 'webhook delivery: releasing unsent claims failed; they lapse on their own');
    }
  }

  /**
   * Leases runs of deliveries that are due: the head of each (endpoint, stream) among pending
   * deliveries of enabled endpoints (one pass over the pending index), those heads that are due
   * and unclaimed locked with SKIP LOCKED (at most `limit`), and behind each head the pending
   * deliveries of its stream that follow it without a break, up to {@link RUN_LENGTH}: one not
   * due yet, or still held by a run that has not released it, ends the run there, so a run is
   * never out of order. Only a head is ever contended: the rest of a stream is not a head while
   * its head is pending. A head another worker holds is skipped. The endpoint's valid secrets come with
   * each, so an attempt needs no other read.
   */
  private async claim(limit: number): Promise<Claimed[][]> {
    const now = this.options.now();
    const { rows } = await this.options.sql.query<Claimed>(
      `WITH heads AS (
         SELECT DISTINCT ON (p.endpoint_id, p.stream_id) p.id, p.next_attempt_at, p.claimed_until
         FROM webhook_deliveries p
         JOIN webhook_endpoint_targets t ON t.endpoint_id = p.endpoint_id AND t.status = 'enabled'
         WHERE p.status = 'pending'
         ORDER BY p.endpoint_id, p.stream_id, p.position),
       due AS (
         SELECT d.id, d.endpoint_id, d.stream_id, d.position FROM webhook_deliveries d JOIN heads h ON h.id = d.id
         WHERE h.next_attempt_at <= $1 AND (h.claimed_until IS NULL OR h.claimed_until <= $1)
           AND d.status = 'pending' AND d.next_attempt_at <= $1 AND (d.claimed_until IS NULL OR d.claimed_until <= $1)
         ORDER BY d.next_attempt_at
         LIMIT $2
         FOR UPDATE OF d SKIP LOCKED),
       runs AS (
         SELECT r.id FROM due
         CROSS JOIN LATERAL (
           SELECT n.id, bool_and(n.free) OVER (ORDER BY n.position) AS unbroken
           FROM (
             SELECT f.id, f.position,
                    f.next_attempt_at <= $1 AND (f.claimed_until IS NULL OR f.claimed_until <= $1) AS free
             FROM webhook_deliveries f
             WHERE f.endpoint_id = due.endpoint_id AND f.stream_id = due.stream_id AND f.status = 'pending'
               AND f.position >= due.position
             ORDER BY f.position
             LIMIT $5) n) r
         WHERE r.unbroken)
       UPDATE webhook_deliveries d SET claimed_until = $3, claim_token = $4
       FROM runs, webhook_endpoint_targets t
       WHERE d.id = runs.id AND t.endpoint_id = d.endpoint_id
       RETURNING d.id, d.endpoint_id, d.org_id, d.event_id, d.stream_id, d.position, d.body, d.round_attempts, t.url,
         t.enabled_position,
         d.claim_token,
         ARRAY(SELECT s.secret FROM webhook_secrets s
               WHERE s.endpoint_id = d.endpoint_id AND (s.expires_at IS NULL OR s.expires_at > $1)
               ORDER BY s.expires_at IS NULL DESC, s.created_at DESC) AS secrets`,
      [
        now,
        limit,
        new Date(now.getTime() + this.options.timeoutMs + leaseMarginMs(this.options.timeoutMs)),
        randomUUID(),
        RUN_LENGTH,
      ],
    );
    const runs = new Map<string, Claimed[]>();
    for (const row of rows) {
      const key = `${row.endpoint_id} ${row.stream_id}`;
      runs.set(key, [...(runs.get(key) ?? []), row]);
    }
    for (const run of runs.values()) run.sort((a, b) => (BigInt(a.position) < BigInt(b.position) ? -1 : 1));
    return [...runs.values()];
  }

  /** One attempt, recorded; true when it was delivered. */
  /** One attempt, not yet recorded. */
  private async post(delivery: Claimed): Promise<Sent> {
    const at = this.options.now();
    const secrets = delivery.secrets;
    const content = { id: delivery.event_id, timestamp: Math.floor(at.getTime() / 1000), body: delivery.body };
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': content.id,
      'webhook-timestamp': String(content.timestamp),
    };
    let outcome: SendOutcome;
    if (secrets.length === 0) {
      // Endpoint management always stores a secret with the endpoint: this is a broken endpoint, not a receiver's fault.
      outcome = {
        kind: 'error',
        error: 'invalid_url',
        message: 'the endpoint has no valid signing secret',
        durationMs: 0,
      };
    } else {
      Object.assign(headers, webhookHeaders(content, secrets));
      outcome = await this.sender.send(delivery.url, headers, delivery.body);
    }
    return { at, headers, outcome };
  }

  /** Records an attempt and what follows from it; true when it was delivered and recorded. */
  private async record(delivery: Claimed, { at, headers, outcome }: Sent): Promise<boolean> {
    const ok = isSuccess(outcome);
    if (ok && outcome.kind === 'response') {
      const recorded = await this.delivered.record({
        deliveryId: delivery.id,
        claimToken: delivery.claim_token,
        at,
        requestHeaders: headers,
        status: outcome.status,
        responseHeaders: outcome.headers,
        responseBody: outcome.body,
        durationMs: outcome.durationMs,
      });
      this.counts.attempts++;
      this.counts.delivered++;
      if (!recorded) this.lapsed(delivery);
      return recorded;
    }
    const status = outcome.kind === 'response' ? outcome.status : null;
    const retryAfter =
      status === 429 || status === 503
        ? parseRetryAfter(outcome.kind === 'response' ? outcome.headers['retry-after'] : undefined, at)
        : undefined;
    const delay = nextRetryDelayMs(
      delivery.round_attempts + 1,
      { scale: this.options.retryScale, ...(this.options.random ? { random: this.options.random } : {}) },
      retryAfter,
    );
    const state = delay === undefined ? 'failed' : 'pending';
    const next = delay === undefined ? null : new Date(this.options.now().getTime() + delay);
    // 410 Gone: the disable is appended before the attempt is recorded (with the endpoint's
    // status, in one statement), so no retry is claimed in between, and a crash between the two
    // sends it again, gets 410 again and appends nothing new (the event's id is derived).
    const gone = status === 410;
    if (gone) await this.appendDisabled(delivery, 'gone', at);
    const error =
      outcome.kind === 'error'
        ? { class: outcome.error, message: outcome.message }
        : { class: 'http', message: `answered ${outcome.status}` };
    const { rows } = await this.options.sql.query<{
      failing_since: Date | null;
      enabled_position: string;
      status: string;
      org_id: string;
    }>(
      `WITH d AS (
         UPDATE webhook_deliveries SET
           attempts = attempts + 1, round_attempts = round_attempts + 1, status = $2::text,
           next_attempt_at = COALESCE($3::timestamptz, next_attempt_at), claimed_until = NULL, claim_token = NULL,
           last_status = $4::integer, last_error = $5::text,
           failed_at = CASE WHEN $2::text = 'failed' THEN $6::timestamptz ELSE failed_at END
         WHERE id = $1 AND claim_token = $12::uuid
         RETURNING id, attempts, endpoint_id),
       a AS (
         INSERT INTO webhook_attempts
           (delivery_id, n, at, request_headers, status, response_headers, response_body, duration_ms, error_class, error_message)
         SELECT id, attempts, $6::timestamptz, $7::jsonb, $4::integer, $8::jsonb, $9::text, $10::real, $11::text, $5::text FROM d)
       UPDATE webhook_endpoint_targets SET
         failing_since = COALESCE(failing_since, $6::timestamptz),
         status = CASE WHEN $13::boolean AND status = 'enabled' AND enabled_position = $14::bigint
                       THEN 'disabled' ELSE status END
       WHERE endpoint_id = (SELECT endpoint_id FROM d)
       RETURNING failing_since, enabled_position, status, org_id`,
      [
        delivery.id,
        state,
        next,
        status,
        error ? `${error.class}: ${error.message}`.slice(0, 1_000) : null,
        at,
        JSON.stringify(headers),
        outcome.kind === 'response' ? JSON.stringify(outcome.headers) : null,
        outcome.kind === 'response' ? outcome.body : null,
        outcome.durationMs,
        error?.class ?? null,
        delivery.claim_token,
        gone,
        delivery.enabled_position,
      ],
    );
    this.counts.attempts++;
    this.counts.failedAttempts++;
    const target = rows[0];
    if (!target) this.lapsed(delivery);
    if (gone && target?.status === 'disabled')
      this.options.logger.warn({ endpointId: delivery.endpoint_id, reason: 'gone' }, 'webhook endpoint disabled');
    if (!target || target.status !== 'enabled') return false;
    const failingSince = target.failing_since ?? at;
    if (this.options.now().getTime() - failingSince.getTime() > this.options.disableAfterMs) {
      await this.appendDisabled(delivery, 'failing', failingSince);
      await this.options.sql.query(
        `UPDATE webhook_endpoint_targets SET status = 'disabled', updated_at = now()
         WHERE endpoint_id = $1 AND enabled_position = $2 AND status = 'enabled'`,
        [delivery.endpoint_id, target.enabled_position],
      );
      this.options.logger.warn({ endpointId: delivery.endpoint_id, reason: 'failing' }, 'webhook endpoint disabled');
    }
    return false;
  }

  private lapsed(delivery: Claimed): void {
    this.options.logger.warn(
      { deliveryId: delivery.id },
      'webhook delivery: its claim lapsed before the attempt was recorded (another worker has it now)',
    );
  }

  /**
   * Appends `endpoint.disabled`, once per enabling: its id derives from the event that last
   * enabled the endpoint, so every worker and every retry that decides it appends one event.
   */
  private async appendDisabled(delivery: Claimed, reason: 'gone' | 'failing', failingSince: Date): Promise<void> {
    const id = uuidV5(DISABLED_NAMESPACE, `${delivery.endpoint_id}:disabled:${delivery.enabled_position}`);
    try {
      await this.options.store.appendToStream(streamIds.webhooks(delivery.org_id), [
        {
          id,
          type: 'endpoint.disabled',
          version: currentVersionOf('endpoint.disabled'),
          data: {
            endpointId: delivery.endpoint_id,
            reason,
            failingSince: failingSince.toISOString(),
            at: this.options.now().toISOString(),
          },
          metadata: {
            orgId: delivery.org_id,
            actor: { kind: 'system', id: 'webhooks' },
            correlationId: delivery.event_id,
            causationId: delivery.event_id,
          },
        },
      ]);
    } catch (err) {
      // Its id is derived: another worker (or an earlier try of this one) appended it already.
      if (!(err instanceof DuplicateEventIdError)) throw err;
    }
  }
}
