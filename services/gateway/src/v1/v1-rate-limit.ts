/**
 * Rate limits of `/v1`, per credential: an API key, or a user (whichever token or cookie they
 * call with), and the client IP for calls with no credential. One `RateLimiter` counts them:
 * in-process by default, Redis when `REDIS_URL` is set, so every gateway shares the counts.
 * Every answer carries the IETF draft headers (`RateLimit-Limit`, `-Remaining`, `-Reset`,
 * `RateLimit-Policy`) and their common `X-RateLimit-*` twins; a refusal is a 429 with
 * `Retry-After`.
 */
import { createMemoryRateLimiter, type RateLimiter, type RateLimitResult } from '@quorum/ratelimit';
import type { Context } from '../trpc';
import { V1HttpError } from './v1-errors';

/** Every `/v1` limiter counts over one minute; the setting is the calls per minute. */
export const V1_RATE_WINDOW_MS = 60_000;
/** Calls per minute per credential by default (`V1_RATE_LIMIT_PER_MINUTE`). */
export const V1_DEFAULT_RATE_PER_MINUTE = 600;

/** The limiter's options; `namespace` keeps deployments sharing one Redis apart. */
export function v1RateLimitOptions(perMinute: number, namespace?: string) {
  return { name: namespace ? `${namespace}.v1` : 'v1', limit: perMinute, windowMs: V1_RATE_WINDOW_MS };
}

export function createMemoryV1RateLimiter(perMinute = V1_DEFAULT_RATE_PER_MINUTE, now?: () => number): RateLimiter {
  return createMemoryRateLimiter({ ...v1RateLimitOptions(perMinute), ...(now ? { now } : {}) });
}

/** Whom a call counts against. */
export function rateKeyOf(ctx: Pick<Context, 'principal' | 'clientIp'>): string {
  const p = ctx.principal;
  if (!p) return `ip:${ctx.clientIp}`;
  return p.kind === 'apiKey' ? `key:${p.keyId}` : `user:${p.userId}`;
}

function headersOf(result: RateLimitResult): Record<string, string> {
  const windowSeconds = V1_RATE_WINDOW_MS / 1000;
  // A sliding window frees the oldest call at most a window from now; refused, when the next fits.
  const reset = result.allowed ? windowSeconds : Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  return {
    'ratelimit-limit': String(result.limit),
    'ratelimit-remaining': String(Math.max(0, result.remaining)),
    'ratelimit-reset': String(reset),
    'ratelimit-policy': `${result.limit};w=${windowSeconds}`,
    'x-ratelimit-limit': String(result.limit),
    'x-ratelimit-remaining': String(Math.max(0, result.remaining)),
    'x-ratelimit-reset': String(reset),
  };
}

/** Counts one call; answers the headers to send, or throws a 429 carrying them. */
export async function consumeV1Rate(limiter: RateLimiter, key: string): Promise<Record<string, string>> {
  const result = await limiter.consume(key);
  const headers = headersOf(result);
  if (result.allowed) return headers;
  const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  throw new V1HttpError(
    429,
    'TOO_MANY_REQUESTS',
    'v1.rate_limited',
    `More than ${result.limit} calls in a minute with this credential; try again in ${seconds} seconds.`,
    { ...headers, 'retry-after': String(seconds) },
  );
}
