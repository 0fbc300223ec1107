/**
 * When a failed delivery is tried again: the Standard Webhooks schedule (immediately, 5 s,
 * 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about a day and a half), each delay
 * scaled (tests) and spread ±20% so endpoints that failed together do not retry together.
 * A 429 or 503 with `Retry-After` waits at least that long.
 */

/** Delay before each attempt of a round, in ms: attempt 1 at once, attempt 8 ten hours after the 7th. */
export const RETRY_DELAYS_MS: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** Attempts in a round; after the last one fails the delivery is `failed`. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length;

/** The most a `Retry-After` may defer an attempt: a day, so a wild value cannot park a delivery for good. */
export const MAX_RETRY_AFTER_MS = 86_400_000;

export interface RetryOptions {
  /** Multiplies every delay (default 1). */
  scale?: number;
  /** In [0, 1), for the jitter; `Math.random` by default. */
  random?: () => number;
}

/**
 * The delay after the `failedAttempts`-th attempt of a round failed (1-based), or `undefined`
 * when that was the last one. `retryAfterMs` (from the answer) is a floor, not scaled: it is
 * what the receiver asked for.
 */
export function nextRetryDelayMs(
  failedAttempts: number,
  options: RetryOptions = {},
  retryAfterMs?: number,
): number | undefined {
  if (failedAttempts >= MAX_ATTEMPTS) return undefined;
  const base = RETRY_DELAYS_MS[Math.max(failedAttempts, 1)]! * (options.scale ?? 1);
  const jitter = 1 + ((options.random ?? Math.random)() * 2 - 1) * 0.2;
  const scheduled = Math.round(base * jitter);
  return retryAfterMs === undefined ? scheduled : Math.max(scheduled, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

/**
 * `Retry-After` in ms from `now`: delay-seconds or an HTTP date (RFC 9110 §10.2.3). Undefined
 * when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date names its weekday and month; anything else (`-5`, which Date.parse reads as a year) is not one.
  if (!/[a-z]{3}/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
