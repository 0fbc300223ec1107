/**
 * The `RateLimiter` port. Every adapter implements the same algorithm, an exact sliding-window
 * log: a call is allowed when the cost of the calls allowed in the last `windowMs` plus its own
 * cost is at most `limit`. Each allowed call is remembered with its time and cost until it is
 * `windowMs` old, so there is no burst at a window edge (unlike fixed windows) and no
 * estimate (unlike the two-bucket "sliding window counter"). Refused calls are not recorded:
 * hammering a refused key never pushes its retry time further out.
 *
 * Memory per key is at most `limit` entries, so the log suits the small limits of abuse
 * protection (logins, sign-ups), not per-request quotas in the thousands.
 */

/** How one limiter counts: at most `limit` cost per `windowMs`, per key. */
export interface RateLimiterOptions {
  /** Names the limiter; the key prefix (`ratelimit:<name>:<key>` in Redis). */
  name: string;
  /** Total cost allowed within any window of `windowMs`; a positive integer. */
  limit: number;
  /** Window length in milliseconds; a positive integer. */
  windowMs: number;
}

/** The answer to one {@link RateLimiter.consume}. */
export interface RateLimitResult {
  /** Whether the call fits; when false nothing was recorded. */
  allowed: boolean;
  /** Cost still available in the current window after this call. */
  remaining: number;
  /** When refused, milliseconds until the same call would be allowed; 0 when allowed. */
  retryAfterMs: number;
  /** The configured limit. */
  limit: number;
}

/** A per-key rate limiter; every adapter passes `runRateLimiterContract`. */
export interface RateLimiter {
  /**
   * Records a call of `cost` (default 1) against `key` if it fits in the window.
   * @throws RangeError when `cost` is not a positive integer or exceeds `limit` (it could never fit).
   */
  consume(key: string, cost?: number): Promise<RateLimitResult>;
  /** Forgets every call recorded for `key`. */
  reset(key: string): Promise<void>;
  /** Releases the limiter's resources; idempotent. */
  close(): Promise<void>;
}

/** Throws when `options` cannot describe a limiter. */
export function validateRateLimiterOptions(options: RateLimiterOptions): void {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(options.name)) {
    throw new RangeError(
      `rate limiter name must be 1 to 64 letters, digits, '.', '_' or '-', got ${JSON.stringify(options.name)}`,
    );
  }
  if (!Number.isSafeInteger(options.limit) || options.limit < 1) {
    throw new RangeError(`rate limiter ${options.name}: limit must be a positive integer, got ${options.limit}`);
  }
  if (!Number.isSafeInteger(options.windowMs) || options.windowMs < 1) {
    throw new RangeError(`rate limiter ${options.name}: windowMs must be a positive integer, got ${options.windowMs}`);
  }
}

/** Returns `cost` when it is a positive integer no larger than `limit`; throws otherwise. */
export function checkCost(options: RateLimiterOptions, cost: number): number {
  if (!Number.isSafeInteger(cost) || cost < 1) {
    throw new RangeError(`rate limiter ${options.name}: cost must be a positive integer, got ${cost}`);
  }
  if (cost > options.limit) {
    throw new RangeError(
      `rate limiter ${options.name}: cost ${cost} exceeds the limit ${options.limit} and could never be allowed`,
    );
  }
  return cost;
}
