import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRateLimiterContract } from '../contract/rate-limiter.contract';
import { RedisRateLimiter } from './redis-rate-limiter';

// The only env read in the package: the test file is the composition root of its own run.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A connected client, or an error that says which service is missing and how to start it. */
async function connect(): Promise<Redis> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new Error(
      `Redis is not running at ${REDIS_URL} (${error instanceof Error ? error.message : String(error)}). Start it with scripts/services.sh.`,
      { cause: error },
    );
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let shared: Redis | undefined;
async function sharedClient(): Promise<Redis> {
  return (shared ??= await connect());
}
afterAll(async () => {
  await shared?.quit();
});

runRateLimiterContract('redis', async (options) => ({
  limiter: await RedisRateLimiter.create({ redis: await sharedClient(), ...options }),
  wait: sleep,
}));

describe('RedisRateLimiter', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await sharedClient();
  });
  const name = () => `int-${randomUUID().slice(0, 8)}`;

  it('allows exactly `limit` of 50 calls racing from five separate clients (processes)', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect()));
    const n = name();
    try {
      const limiters = await Promise.all(
        clients.map((c) => RedisRateLimiter.create({ redis: c, name: n, limit: 10, windowMs: 10_000 })),
      );
      const key = randomUUID();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => limiters[i % limiters.length]!.consume(key)),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(10);
      expect(await redis.llen(`ratelimit:${n}:${key}`)).toBe(10);
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
  });

  it('keeps one list per key under ratelimit:<name>:<key> that expires with the window', async () => {
    const n = name();
    const limiter = await RedisRateLimiter.create({ redis, name: n, limit: 2, windowMs: 1_000 });
    const key = randomUUID();
    const redisKey = `ratelimit:${n}:${key}`;
    await limiter.consume(key);
    await limiter.consume(key);
    const ttl = await redis.pttl(redisKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_000);
    await sleep(100);
    // A refused call writes nothing, so the TTL keeps running down.
    expect((await limiter.consume(key)).allowed).toBe(false);
    expect(await redis.pttl(redisKey)).toBeLessThan(ttl);
    await sleep(1_050);
    expect(await redis.exists(redisKey)).toBe(0);
  });

  it('leaves a caller-owned client open on close', async () => {
    const limiter = await RedisRateLimiter.create({ redis, name: name(), limit: 1, windowMs: 1_000 });
    await limiter.close();
    expect(await redis.ping()).toBe('PONG');
  });

  it('opens and closes its own client when given a url', async () => {
    const limiter = await RedisRateLimiter.create({ url: REDIS_URL, name: name(), limit: 1, windowMs: 1_000 });
    expect((await limiter.consume('k')).allowed).toBe(true);
    await limiter.close();
    await limiter.close();
  });

  it('fails create with a clear error when Redis is unreachable', async () => {
    await expect(
      RedisRateLimiter.create({ url: 'redis://127.0.0.1:1', name: name(), limit: 1, windowMs: 1_000 }),
    ).rejects.toThrow(/Redis is not usable/);
  });
});
