/**
 * Writes delivered attempts in batches: every attempt answered with a 2xx within a few
 * milliseconds of each other is recorded by one statement (the delivery's new state, its
 * attempt row, the endpoint's failure clock cleared), so a busy engine makes one write per batch
 * instead of one per request, and its fan-out and claims are not kept waiting for connections.
 * A failed attempt is not written here: what follows from it (a retry time, a disable) is
 * decided from its own write.
 */
import type { SqlDatabase } from '@quorum/db';

export interface DeliveredAttempt {
  deliveryId: string;
  claimToken: string;
  at: Date;
  requestHeaders: Record<string, string>;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: string;
  durationMs: number;
}

interface Waiting {
  attempt: DeliveredAttempt;
  resolve: (recorded: boolean) => void;
  reject: (err: unknown) => void;
}

export class DeliveredWriter {
  private queue: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: SqlDatabase,
    /** How long an attempt waits for others to share its write. */
    private readonly lingerMs = 5,
    /** Most attempts in one write. */
    private readonly maxBatch = 200,
  ) {}

  /** Resolves true once recorded; false when the claim had lapsed (another worker holds the delivery). */
  record(attempt: DeliveredAttempt): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ attempt, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  /** Writes what waits, after the write in progress (one at a time keeps the pool for others). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  private async write(batch: readonly Waiting[]): Promise<void> {
    const a = batch.map((w) => w.attempt);
    try {
      const { rows } = await this.sql.query<{ id: string }>(
        `WITH input AS (
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::jsonb[], $5::integer[], $6::jsonb[],
                                $7::text[], $8::real[])
             AS i(id, token, at, request_headers, status, response_headers, response_body, duration_ms)),
         d AS (
           UPDATE webhook_deliveries w SET
             attempts = w.attempts + 1, round_attempts = w.round_attempts + 1, status = 'delivered',
             claimed_until = NULL, claim_token = NULL, last_status = i.status, last_error = NULL, delivered_at = i.at
           FROM input i WHERE w.id = i.id AND w.claim_token = i.token
           RETURNING w.id, w.attempts, w.endpoint_id),
         a AS (
           INSERT INTO webhook_attempts
             (delivery_id, n, at, request_headers, status, response_headers, response_body, duration_ms)
           SELECT d.id, d.attempts, i.at, i.request_headers, i.status, i.response_headers, i.response_body, i.duration_ms
           FROM d JOIN input i ON i.id = d.id),
         t AS (
           UPDATE webhook_endpoint_targets SET failing_since = NULL
           WHERE failing_since IS NOT NULL AND endpoint_id IN (SELECT endpoint_id FROM d))
         SELECT id FROM d`,
        [
          a.map((x) => x.deliveryId),
          a.map((x) => x.claimToken),
          a.map((x) => x.at),
          a.map((x) => JSON.stringify(x.requestHeaders)),
          a.map((x) => x.status),
          a.map((x) => JSON.stringify(x.responseHeaders)),
          a.map((x) => x.responseBody),
          a.map((x) => x.durationMs),
        ],
      );
      const recorded = new Set(rows.map((r) => r.id));
      for (const w of batch) w.resolve(recorded.has(w.attempt.deliveryId));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
