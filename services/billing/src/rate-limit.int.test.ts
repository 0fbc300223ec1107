/**
 * The Stripe call rate on real Redis: two instances drawing from one bucket together make no
 * more calls than the rate allows (a bucket's second of credit, then the rate), and a bucket of
 * one process does the same alone. Only upper bounds on calls are checked, so a slow machine
 * cannot fail it.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localCallRateLimit, redisCallRateLimit, type CallRateLimit } from './rate-limit';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let a: Redis;
let b: Redis;

beforeAll(async () => {
  a = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  b = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  await a.ping();
});

afterAll(async () => {
  await a?.quit();
  await b?.quit();
});

/** When each of `n` takes (spread over `limits`, all asking at once) was granted, ms from the start. */
async function grants(limits: readonly CallRateLimit[], n: number): Promise<number[]> {
  const start = performance.now();
  const times = await Promise.all(
    Array.from({ length: n }, (_, i) => limits[i % limits.length]!.take().then(() => performance.now() - start)),
  );
  return times.sort((x, y) => x - y);
}

/** Most grants in any window of `ms` after the first `after` ms. */
function busiestWindow(times: readonly number[], ms: number, after: number): number {
  let most = 0;
  for (let i = 0; i < times.length; i++) {
    if (times[i]! < after) continue;
    let j = i;
    while (j < times.length && times[j]! < times[i]! + ms) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

describe('Stripe call rate', () => {
  it('holds two instances sharing a Redis bucket to the rate together', async () => {
    const key = `quorum:test:stripe-calls:${randomUUID()}`;
    const rate = 20;
    const times = await grants([redisCallRateLimit(a, rate, key), redisCallRateLimit(b, rate, key)], 70);
    // A full bucket (one second of calls) at once, then the rate: 50 more need at least 2.5 s.
    expect(times.at(-1)!).toBeGreaterThanOrEqual(((70 - rate) / rate) * 1000 - 50);
    // Once the credit is spent, no second holds more than the rate (one more for the edges).
    expect(busiestWindow(times, 1000, 1000)).toBeLessThanOrEqual(rate + 1);
    await a.del(key);
  }, 30_000);

  it('holds one process to the rate without Redis', async () => {
    const times = await grants([localCallRateLimit(20)], 50);
    expect(times.at(-1)!).toBeGreaterThanOrEqual(((50 - 20) / 20) * 1000 - 50);
    expect(busiestWindow(times, 1000, 1000)).toBeLessThanOrEqual(21);
  }, 30_000);
});
