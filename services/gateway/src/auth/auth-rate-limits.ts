/**
 * Rate limits that slow password guessing and sign-up floods. Login is counted twice:
 *
 * - per lower-cased email (`login`, default 10 per 15 minutes): caps guesses against one
 *   account however many addresses they come from; a successful login clears it. The price
 *   is that someone can lock an account's logins for one window; they cannot do more.
 * - per client IP (`loginByIp`, default 100 per 15 minutes): caps one address spraying many
 *   accounts, high enough for an office behind one NAT. A successful login does not clear
 *   it, or an attacker could reset it by logging into an account of their own.
 *
 * Sign-up is counted per client IP (`signUp`, default 20 per hour). Every attempt counts,
 * successful or not, and the IP check runs first, so an address that is already refused
 * spends nothing of an account's own budget. The IP is the socket's peer address: behind a
 * reverse proxy every client shares the proxy's address (see `clientIpOf`).
 */
import { AppError } from '@quorum/domain';
import {
  createMemoryRateLimiter,
  type RateLimiter,
  type RateLimiterOptions,
  type RateLimitResult,
} from '@quorum/ratelimit';

/** The limiters the auth procedures use; the same options for every adapter. */
export interface AuthRateLimiters {
  /** Login attempts per lower-cased email. */
  login: RateLimiter;
  /** Login attempts per client IP. */
  loginByIp: RateLimiter;
  /** Sign-ups per client IP. */
  signUp: RateLimiter;
}

const MINUTE = 60_000;

/** Default limits; `name` is the key prefix, so every gateway on one Redis shares the counts. */
export const AUTH_RATE_LIMITS = {
  login: { name: 'login', limit: 10, windowMs: 15 * MINUTE },
  loginByIp: { name: 'login-ip', limit: 100, windowMs: 15 * MINUTE },
  signUp: { name: 'signup', limit: 20, windowMs: 60 * MINUTE },
} as const satisfies Record<keyof AuthRateLimiters, RateLimiterOptions>;

export type AuthRateLimitOptions = Record<keyof AuthRateLimiters, RateLimiterOptions>;

/**
 * `AUTH_RATE_LIMITS` with other limits (windows stay) and an optional namespace that
 * prefixes every name, so deployments sharing one Redis keep their counts apart.
 */
export function authRateLimitOptions(
  settings: { login?: number; loginByIp?: number; signUp?: number; namespace?: string } = {},
): AuthRateLimitOptions {
  const build = (which: keyof AuthRateLimiters): RateLimiterOptions => {
    const base = AUTH_RATE_LIMITS[which];
    return {
      name: settings.namespace ? `${settings.namespace}.${base.name}` : base.name,
      limit: settings[which] ?? base.limit,
      windowMs: base.windowMs,
    };
  };
  return { login: build('login'), loginByIp: build('loginByIp'), signUp: build('signUp') };
}

/** In-process limiters (the embedded default, one gateway); default limits unless given. */
export function createMemoryAuthRateLimiters(
  options: AuthRateLimitOptions = AUTH_RATE_LIMITS,
  now?: () => number,
): AuthRateLimiters {
  const clock = now ? { now } : {};
  return {
    login: createMemoryRateLimiter({ ...options.login, ...clock }),
    loginByIp: createMemoryRateLimiter({ ...options.loginByIp, ...clock }),
    signUp: createMemoryRateLimiter({ ...options.signUp, ...clock }),
  };
}

export const emailKey = (email: string) => `email:${email.toLowerCase()}`;
export const ipKey = (ip: string) => `ip:${ip}`;

/** Throws TOO_MANY_REQUESTS when `result` was refused. */
export function assertAllowed(result: RateLimitResult): void {
  if (result.allowed) return;
  const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  throw new AppError('TOO_MANY_REQUESTS', 'auth.rate_limited', `Too many attempts; try again in ${seconds} seconds.`, {
    details: { retryAfterMs: result.retryAfterMs, limit: result.limit },
  });
}
