/**
 * In-process `RateLimiter` for the embedded default and unit tests: the sliding-window log of
 * `rate-limiter.ts` kept in a Map. Counts are per process, so several gateways each allow the
 * limit; use the Redis adapter when more than one runs.
 *
 * Memory stays bounded without timers: a key whose calls are all older than the window is
 * dropped when touched, a sweep of every key runs at most once per window, and past `maxKeys`
 * the least recently used keys are dropped (which forgets their counts, so size `maxKeys` for
 * the traffic of one window).
 */
import {
  checkCost,
  validateRateLimiterOptions,
  type RateLimiter,
  type RateLimiterOptions,
  type RateLimitResult,
} from '../rate-limiter';

export interface MemoryRateLimiterOptions extends RateLimiterOptions {
  /** Milliseconds since the epoch; injected so tests control time. */
  now?: () => number;
  /** Most keys kept at once; default 100 000. */
  maxKeys?: number;
}

interface Entry {
  at: number;
  cost: number;
}

/** Creates an in-process sliding-window rate limiter. */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions): RateLimiter & { readonly size: number } {
  validateRateLimiterOptions(options);
  const { limit, windowMs } = options;
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1)
    throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`);
  // Map order is insertion order; re-inserting on every touch makes the first key the least recently used.
  const logs = new Map<string, Entry[]>();
  let lastSweep = now();
  let closed = false;

  /** Drops entries at least `windowMs` old; returns the live log (oldest first). */
  function prune(log: Entry[], t: number): Entry[] {
    let expired = 0;
    while (expired < log.length && log[expired]!.at + windowMs <= t) expired++;
    return expired === 0 ? log : log.slice(expired);
  }

  function sweep(t: number): void {
    if (t - lastSweep >= windowMs) {
      lastSweep = t;
      for (const [key, log] of logs) {
        if (prune(log, t).length === 0) logs.delete(key);
      }
    }
    // Over the cap, drop least recently used keys (O(1) each) rather than sweeping everything.
    for (const key of logs.keys()) {
      if (logs.size <= maxKeys) break;
      logs.delete(key);
    }
  }

  function assertOpen(): void {
    if (closed) throw new Error(`rate limiter ${options.name} is closed`);
  }

  return {
    get size() {
      return logs.size;
    },
    async consume(key: string, cost = 1): Promise<RateLimitResult> {
      assertOpen();
      checkCost(options, cost);
      const t = now();
      const log = prune(logs.get(key) ?? [], t);
      logs.delete(key);
      const used = log.reduce((sum, e) => sum + e.cost, 0);
      if (used + cost <= limit) {
        log.push({ at: t, cost });
        logs.set(key, log);
        sweep(t);
        return { allowed: true, remaining: limit - used - cost, retryAfterMs: 0, limit };
      }
      if (log.length > 0) logs.set(key, log);
      sweep(t);
      // The call fits once enough of the oldest entries have left the window.
      let freed = 0;
      let retryAfterMs = windowMs;
      for (const e of log) {
        freed += e.cost;
        if (used - freed + cost <= limit) {
          retryAfterMs = e.at + windowMs - t;
          break;
        }
      }
      return { allowed: false, remaining: limit - used, retryAfterMs, limit };
    },
    async reset(key: string): Promise<void> {
      assertOpen();
      logs.delete(key);
    },
    async close(): Promise<void> {
      closed = true;
      logs.clear();
    },
  };
}
