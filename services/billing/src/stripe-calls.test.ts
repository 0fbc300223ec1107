import Stripe from 'stripe';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { localCallRateLimit } from './rate-limit';
import { StripeCalls, StripeRefused, StripeUnavailable, verdictOf } from './stripe-calls';

const error = (statusCode: number, headers: Record<string, string> = {}, type = 'api_error') =>
  Stripe.errors.StripeError.generate({ type, message: `status ${statusCode}`, statusCode, headers } as never);

describe('verdictOf', () => {
  it('retries what Stripe says may be retried, and holds the rest', () => {
    expect(verdictOf(error(500))).toEqual({ retry: true, afterMs: null });
    expect(verdictOf(error(503, { 'retry-after': '7' }))).toEqual({ retry: true, afterMs: 7_000 });
    expect(verdictOf(error(429, { 'retry-after': '2' }, 'rate_limit_error'))).toEqual({ retry: true, afterMs: 2_000 });
    expect(verdictOf(error(409))).toEqual({ retry: true, afterMs: null });
    expect(verdictOf(error(400, { 'stripe-should-retry': 'true' }, 'invalid_request_error'))).toEqual({
      retry: true,
      afterMs: null,
    });
    expect(verdictOf(error(500, { 'stripe-should-retry': 'false' }))).toEqual({ retry: false, refused: false });
    expect(verdictOf(error(400, {}, 'invalid_request_error'))).toEqual({ retry: false, refused: true });
    expect(verdictOf(error(404, {}, 'invalid_request_error'))).toEqual({ retry: false, refused: true });
    // A bad or under-privileged key is a setting to fix, not an event to dead-letter.
    expect(verdictOf(error(401, {}, 'authentication_error'))).toEqual({ retry: false, refused: false });
    expect(verdictOf(error(403, {}, 'invalid_request_error'))).toEqual({ retry: false, refused: false });
    expect(verdictOf(new Stripe.errors.StripeConnectionError({ message: 'ECONNRESET' }))).toEqual({
      retry: true,
      afterMs: null,
    });
  });
});

describe('StripeCalls', () => {
  const stripe = new Stripe('sk_test_123');
  const make = (waits: number[]) =>
    new StripeCalls(stripe, {
      limit: localCallRateLimit(1_000),
      logger: pino({ level: 'silent' }),
      retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 },
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

  it('sends every attempt under the one key, and answers once Stripe does', async () => {
    const waits: number[] = [];
    const keys: Array<string | undefined> = [];
    const answers = [error(500), error(429, { 'retry-after': '3' }), 'ok'];
    const out = await make(waits).call('test', 'quorum-test-1', async (o) => {
      keys.push(o.idempotencyKey);
      const next = answers.shift()!;
      if (next instanceof Error) throw next;
      return next;
    });
    expect(out).toBe('ok');
    expect(keys).toEqual(['quorum-test-1', 'quorum-test-1', 'quorum-test-1']);
    // The backoff after the 429 never undercuts Retry-After: the wait before the third attempt covers 3 s.
    expect(waits.some((ms) => ms >= 2_900)).toBe(true);
  });

  it('gives up to a later redelivery after its attempts, and refuses at once on a 400', async () => {
    await expect(
      make([]).call('test', 'k', async () => {
        throw error(502);
      }),
    ).rejects.toBeInstanceOf(StripeUnavailable);
    let sent = 0;
    const refused = await make([])
      .call('test', 'k', async () => {
        sent++;
        throw error(400, {}, 'invalid_request_error');
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StripeRefused);
    expect((refused as StripeRefused).info).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError' });
    expect(sent).toBe(1);
  });

  it('leaves a Retry-After longer than it waits to a later redelivery', async () => {
    await expect(
      make([]).call('test', 'k', async () => {
        throw error(429, { 'retry-after': '600' }, 'rate_limit_error');
      }),
    ).rejects.toBeInstanceOf(StripeUnavailable);
  });
});
