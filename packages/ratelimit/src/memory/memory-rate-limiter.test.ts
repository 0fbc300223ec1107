import { describe, expect, it } from 'vitest';
import { runRateLimiterContract } from '../contract/rate-limiter.contract';
import { createMemoryRateLimiter } from './memory-rate-limiter';

runRateLimiterContract('memory', async (options) => {
  let now = 1_700_000_000_000;
  const limiter = createMemoryRateLimiter({ ...options, now: () => now });
  return {
    limiter,
    async wait(ms) {
      now += ms;
    },
  };
});

describe('memory rate limiter', () => {
  it('counts exactly the calls of the last window, to the millisecond', async () => {
    let now = 0;
    const limiter = createMemoryRateLimiter({ name: 'exact', limit: 3, windowMs: 1_000, now: () => now });
    for (const t of [0, 400, 800]) {
      now = t;
      expect((await limiter.consume('k')).allowed).toBe(true);
    }
    now = 900;
    expect(await limiter.consume('k')).toEqual({ allowed: false, remaining: 0, retryAfterMs: 100, limit: 3 });
    now = 999;
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 1 });
    now = 1_000;
    expect(await limiter.consume('k')).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0, limit: 3 });
    now = 1_001;
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 399 });
  });

  it('points retryAfterMs at the oldest calls that free enough for a larger cost', async () => {
    let now = 0;
    const limiter = createMemoryRateLimiter({ name: 'cost', limit: 5, windowMs: 1_000, now: () => now });
    await limiter.consume('k', 2); // t=0
    now = 100;
    await limiter.consume('k', 1);
    now = 200;
    await limiter.consume('k', 2);
    now = 300;
    // Full: a cost of 3 needs the first two entries (2 + 1) to leave, at t=1100.
    expect(await limiter.consume('k', 3)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 800, limit: 5 });
    now = 1_000;
    expect(await limiter.consume('k', 3)).toMatchObject({ allowed: false, remaining: 2, retryAfterMs: 100 });
    now = 1_100;
    expect(await limiter.consume('k', 3)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('drops keys whose calls have all left the window', async () => {
    let now = 0;
    const limiter = createMemoryRateLimiter({ name: 'evict', limit: 1, windowMs: 1_000, now: () => now });
    for (let i = 0; i < 100; i++) await limiter.consume(`k${i}`);
    expect(limiter.size).toBe(100);
    now = 1_500;
    await limiter.consume('fresh');
    expect(limiter.size).toBe(1);
    // A refused call on a live key keeps it.
    expect((await limiter.consume('fresh')).allowed).toBe(false);
    expect(limiter.size).toBe(1);
  });

  it('never holds more than maxKeys, dropping the least recently used first', async () => {
    const limiter = createMemoryRateLimiter({ name: 'cap', limit: 2, windowMs: 60_000, maxKeys: 3, now: () => 0 });
    await limiter.consume('a');
    await limiter.consume('b');
    await limiter.consume('c');
    await limiter.consume('a'); // a is now the most recently used
    await limiter.consume('d'); // evicts b
    expect(limiter.size).toBe(3);
    expect(await limiter.consume('a')).toMatchObject({ allowed: false });
    expect(await limiter.consume('b')).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('rejects options that cannot describe a limiter', () => {
    expect(() => createMemoryRateLimiter({ name: 'x', limit: 0, windowMs: 1_000 })).toThrow(
      /limit must be a positive integer/,
    );
    expect(() => createMemoryRateLimiter({ name: 'x', limit: 1, windowMs: 0.5 })).toThrow(
      /windowMs must be a positive integer/,
    );
    expect(() => createMemoryRateLimiter({ name: 'has space', limit: 1, windowMs: 1 })).toThrow(/name must be/);
  });
});
