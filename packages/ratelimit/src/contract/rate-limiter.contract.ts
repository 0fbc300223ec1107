/**
 * The contract every `RateLimiter` adapter passes. Adapters with a real clock wait for real
 * (windows are 300 ms); the memory adapter advances a fake clock in `wait`. Tests on a shared
 * server stay apart by a unique limiter name and unique keys; nothing is flushed.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { RateLimiter, RateLimiterOptions } from '../rate-limiter';

export interface RateLimiterFixture {
  readonly limiter: RateLimiter;
  /** Lets `ms` pass on the limiter's clock: real sleeping, or advancing a fake clock. */
  wait(ms: number): Promise<void>;
  readonly cleanup?: () => Promise<void>;
}

/** Builds a limiter with `options`; called once or more per test. */
export type RateLimiterFactory = (options: RateLimiterOptions) => Promise<RateLimiterFixture>;

/** Window of every contract test: long enough to be far above call latency, short to wait out. */
export const CONTRACT_WINDOW_MS = 300;
/** Slack added when waiting a window out, for the latency between client and server clocks. */
const SLACK_MS = 25;

const uniqueKey = (label: string) => `${label}-${randomUUID()}`;

/** Defines the contract suite for one adapter. */
export function runRateLimiterContract(name: string, factory: RateLimiterFactory): void {
  describe(`RateLimiter contract: ${name}`, () => {
    const fixtures: RateLimiterFixture[] = [];

    async function make(limit: number, windowMs = CONTRACT_WINDOW_MS): Promise<RateLimiterFixture> {
      const fixture = await factory({ name: `contract-${randomUUID().slice(0, 8)}`, limit, windowMs });
      fixtures.push(fixture);
      return fixture;
    }

    afterEach(async () => {
      for (const f of fixtures.splice(0)) {
        await f.limiter.close();
        await f.cleanup?.();
      }
    });

    it('allows `limit` calls, counting down, then refuses with a positive retryAfterMs within the window', async () => {
      const { limiter } = await make(5);
      const key = uniqueKey('basic');
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await limiter.consume(key));
      expect(results.map((r) => [r.allowed, r.remaining, r.retryAfterMs, r.limit])).toEqual([
        [true, 4, 0, 5],
        [true, 3, 0, 5],
        [true, 2, 0, 5],
        [true, 1, 0, 5],
        [true, 0, 0, 5],
      ]);
      const refused = await limiter.consume(key);
      expect(refused).toMatchObject({ allowed: false, remaining: 0, limit: 5 });
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(CONTRACT_WINDOW_MS);
    });

    it('does not extend the penalty for refused calls: the retry time only shrinks', async () => {
      const { limiter, wait } = await make(3);
      const key = uniqueKey('penalty');
      // At once (pipelined on one connection), so all three leave the window together below.
      expect((await Promise.all([0, 1, 2].map(() => limiter.consume(key)))).every((r) => r.allowed)).toBe(true);
      const first = await limiter.consume(key);
      expect(first.allowed).toBe(false);
      await wait(150);
      const second = await limiter.consume(key);
      const third = await limiter.consume(key);
      expect(second.allowed || third.allowed).toBe(false);
      expect(second.retryAfterMs).toBeLessThan(first.retryAfterMs);
      expect(third.retryAfterMs).toBeLessThanOrEqual(second.retryAfterMs);
      await wait(third.retryAfterMs + SLACK_MS);
      expect(await limiter.consume(key)).toMatchObject({ allowed: true, remaining: 2 });
    });

    it('allows the full limit again once the window has passed', async () => {
      const { limiter, wait } = await make(2);
      const key = uniqueKey('window');
      await limiter.consume(key);
      await limiter.consume(key);
      expect((await limiter.consume(key)).allowed).toBe(false);
      await wait(CONTRACT_WINDOW_MS + SLACK_MS);
      expect(await limiter.consume(key)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await limiter.consume(key)).toMatchObject({ allowed: true, remaining: 0 });
      expect((await limiter.consume(key)).allowed).toBe(false);
    });

    it('slides: a call frees its cost exactly one window after it, not at a fixed boundary', async () => {
      // A 1 s window: the calls between the waits have 400 ms of slack on a busy machine.
      const { limiter, wait } = await make(2, 1_000);
      const key = uniqueKey('slide');
      expect((await limiter.consume(key)).allowed).toBe(true);
      await wait(600);
      expect((await limiter.consume(key)).allowed).toBe(true);
      const refused = await limiter.consume(key);
      expect(refused.allowed).toBe(false);
      // The first call leaves the window about 400 ms from now, the second about 1,000 ms.
      expect(refused.retryAfterMs).toBeLessThanOrEqual(400);
      await wait(refused.retryAfterMs + SLACK_MS);
      expect(await limiter.consume(key)).toMatchObject({ allowed: true, remaining: 0 });
      const again = await limiter.consume(key);
      expect(again.allowed).toBe(false);
      expect(again.retryAfterMs).toBeGreaterThan(0);
    });

    it('keeps keys independent', async () => {
      const { limiter } = await make(2);
      const a = uniqueKey('a');
      const b = uniqueKey('b');
      await limiter.consume(a);
      await limiter.consume(a);
      expect((await limiter.consume(a)).allowed).toBe(false);
      expect(await limiter.consume(b)).toMatchObject({ allowed: true, remaining: 1 });
    });

    it('keeps limiters with different names independent for the same key', async () => {
      const one = await make(1);
      const two = await make(1);
      const key = uniqueKey('names');
      expect((await one.limiter.consume(key)).allowed).toBe(true);
      expect((await one.limiter.consume(key)).allowed).toBe(false);
      expect((await two.limiter.consume(key)).allowed).toBe(true);
    });

    it('charges `cost` and refuses a cost that does not fit while a smaller one still does', async () => {
      const { limiter } = await make(10);
      const key = uniqueKey('cost');
      expect(await limiter.consume(key, 4)).toMatchObject({ allowed: true, remaining: 6 });
      expect(await limiter.consume(key, 4)).toMatchObject({ allowed: true, remaining: 2 });
      const refused = await limiter.consume(key, 4);
      expect(refused).toMatchObject({ allowed: false, remaining: 2 });
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(await limiter.consume(key, 2)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('rejects a cost that is not a positive integer or can never fit', async () => {
      const { limiter } = await make(3);
      const key = uniqueKey('bad-cost');
      await expect(limiter.consume(key, 0)).rejects.toThrow(RangeError);
      await expect(limiter.consume(key, 1.5)).rejects.toThrow(RangeError);
      await expect(limiter.consume(key, 4)).rejects.toThrow(/exceeds the limit 3/);
      expect(await limiter.consume(key)).toMatchObject({ allowed: true, remaining: 2 });
    });

    it('allows exactly `limit` of 50 concurrent calls on one key', async () => {
      const { limiter } = await make(10);
      const key = uniqueKey('concurrent');
      const results = await Promise.all(Array.from({ length: 50 }, () => limiter.consume(key)));
      expect(results.filter((r) => r.allowed)).toHaveLength(10);
      expect(results.filter((r) => !r.allowed).every((r) => r.retryAfterMs > 0 && r.remaining === 0)).toBe(true);
      expect(new Set(results.filter((r) => r.allowed).map((r) => r.remaining))).toEqual(
        new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
      );
    });

    it('reset forgets a key and leaves others alone', async () => {
      const { limiter } = await make(2);
      const key = uniqueKey('reset');
      const other = uniqueKey('other');
      await limiter.consume(key);
      await limiter.consume(key);
      await limiter.consume(other);
      expect((await limiter.consume(key)).allowed).toBe(false);
      await limiter.reset(key);
      expect(await limiter.consume(key)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await limiter.consume(other)).toMatchObject({ allowed: true, remaining: 0 });
      await limiter.reset(uniqueKey('never-used'));
    });

    it('closes idempotently and refuses use afterwards', async () => {
      const { limiter } = await make(2);
      await limiter.close();
      await limiter.close();
      await expect(limiter.consume(uniqueKey('closed'))).rejects.toThrow(/closed/);
    });
  });
}
