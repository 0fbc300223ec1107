/**
 * Every call to Stripe goes through {@link StripeCalls.call}: it waits for the shared call rate,
 * sends the Idempotency-Key derived from the event that caused the call, and retries what
 * Stripe says may be retried, with backoff and jitter, honouring `Stripe-Should-Retry` and
 * `Retry-After`. What is left is one of two errors: {@link StripeRefused} (Stripe refused the
 * call for good: a 4xx other than 409 and 429; the cause becomes a dead letter) or
 * {@link StripeUnavailable} (Stripe could not be reached or kept failing; the event is handed
 * over again later and the call repeated under the same key).
 *
 * The SDK's own retries are off (`maxNetworkRetries: 0`): it retries neither 429 nor by
 * `Retry-After`, and two retry loops would multiply attempts.
 */
import Stripe from 'stripe';
import type { z } from 'zod';
import type { StripeErrorSchema } from '@quorum/domain';
import type { Logger } from 'pino';
import type { CallRateLimit } from './rate-limit';

/** Stripe's answer to a refused call, as `billing.sync_failed` records it. */
export type StripeErrorInfo = z.infer<typeof StripeErrorSchema>;

/** Stripe refused the call for good. */
export class StripeRefused extends Error {
  constructor(readonly info: StripeErrorInfo) {
    super(`Stripe refused the call: ${info.message}`);
    this.name = 'StripeRefused';
  }
}

/** Stripe could not be reached or kept failing; try again later. */
export class StripeUnavailable extends Error {
  constructor(
    message: string,
    readonly info: StripeErrorInfo,
  ) {
    super(message);
    this.name = 'StripeUnavailable';
  }
}

export interface RetryPolicy {
  /** Attempts per call before giving up to a later redelivery. Default 4. */
  attempts: number;
  /** First backoff; doubles per attempt (full jitter). Default 500 ms. */
  baseDelayMs: number;
  /** Longest backoff. Default 30 s. */
  maxDelayMs: number;
  /**
   * Longest `Retry-After` waited inside one call; Stripe asking for longer leaves the call to a
   * later redelivery. Default 60 s.
   */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000,
};

/** A Stripe client for Quorum's sync: API base from settings, retries left to {@link StripeCalls}. */
export function createStripeClient(secretKey: string, apiBase?: string): Stripe {
  const base = apiBase ? new URL(apiBase) : undefined;
  return new Stripe(secretKey, {
    maxNetworkRetries: 0,
    timeout: 30_000,
    appInfo: { name: 'Quorum billing' },
    ...(base
      ? {
          host: base.hostname,
          port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
          protocol: base.protocol === 'https:' ? 'https' : 'http',
        }
      : {}),
  });
}

function infoOf(error: unknown): StripeErrorInfo {
  if (error instanceof Stripe.errors.StripeError) {
    return {
      type: error.type,
      code: error.code ?? null,
      message: error.message,
      statusCode: error.statusCode ?? null,
      requestId: error.requestId ?? null,
    };
  }
  return {
    type: 'Error',
    code: null,
    message: error instanceof Error ? error.message : String(error),
    statusCode: null,
    requestId: null,
  };
}

type Verdict = { retry: true; afterMs: number | null } | { retry: false; refused: boolean };

/** Whether Stripe's answer may be retried, and when. */
export function verdictOf(error: unknown): Verdict {
  if (!(error instanceof Stripe.errors.StripeError)) return { retry: true, afterMs: null };
  const headers = error.headers ?? {};
  const retryAfter = Number(headers['retry-after']);
  const afterMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : null;
  const status = error.statusCode;
  if (status === undefined) return { retry: true, afterMs: null };
  if (headers['stripe-should-retry'] === 'true') return { retry: true, afterMs };
  if (status === 429 || status === 409) return { retry: true, afterMs };
  if (headers['stripe-should-retry'] === 'false') return { retry: false, refused: status < 500 };
  if (status >= 500) return { retry: true, afterMs };
  // A bad key or a key without the right: fix the settings; no event is at fault.
  if (status === 401 || status === 403) return { retry: false, refused: false };
  return { retry: false, refused: true };
}

export interface StripeCallsOptions {
  limit: CallRateLimit;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  sleep?: (ms: number) => Promise<void>;
}

export class StripeCalls {
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Calls sent, retries included. */
  sent = 0;
  /** No call before this instant (ms): Stripe's last `Retry-After` holds for every call of the process. */
  private notBefore = 0;

  constructor(
    readonly stripe: Stripe,
    private readonly options: StripeCallsOptions,
  ) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * `send` with `idempotencyKey`, retried as Stripe allows.
   * @throws {StripeRefused} for good; {@link StripeUnavailable} for now.
   */
  call<T>(what: string, idempotencyKey: string, send: (options: Stripe.RequestOptions) => Promise<T>): Promise<T> {
    return this.attempt(what, { idempotencyKey }, send);
  }

  /**
   * A read (a GET: nothing to repeat twice, so no Idempotency-Key), under the same call rate and
   * retries as a write.
   * @throws {StripeRefused} for good; {@link StripeUnavailable} for now.
   */
  read<T>(what: string, send: (options: Stripe.RequestOptions) => Promise<T>): Promise<T> {
    return this.attempt(what, {}, send);
  }

  private async attempt<T>(
    what: string,
    options: Stripe.RequestOptions,
    send: (options: Stripe.RequestOptions) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const wait = this.notBefore - Date.now();
      if (wait > 0) await this.sleep(wait);
      await this.options.limit.take();
      this.sent++;
      try {
        return await send(options);
      } catch (error) {
        const verdict = verdictOf(error);
        const info = infoOf(error);
        if (!verdict.retry) {
          if (verdict.refused) throw new StripeRefused(info);
          throw new StripeUnavailable(`${what}: ${info.message}`, info);
        }
        if (verdict.afterMs !== null) {
          this.notBefore = Math.max(
            this.notBefore,
            Date.now() + Math.min(verdict.afterMs, this.policy.maxRetryAfterMs),
          );
        }
        if (attempt >= this.policy.attempts || (verdict.afterMs ?? 0) > this.policy.maxRetryAfterMs) {
          throw new StripeUnavailable(`${what}: still failing after ${attempt} attempts: ${info.message}`, info);
        }
        // Full jitter; the wait for `notBefore` above keeps it no sooner than Stripe asked.
        const delay = Math.random() * Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1));
        this.options.logger.warn(
          { what, attempt, status: info.statusCode, requestId: info.requestId, retryInMs: Math.round(delay) },
          'stripe call failed; retrying',
        );
        await this.sleep(delay);
      }
    }
  }
}
