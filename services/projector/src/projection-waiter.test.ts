import { describe, expect, it } from 'vitest';
import { ProjectionWaiter } from './projection-waiter';

describe('ProjectionWaiter', () => {
  it('settles a wait when an advance reaches it, and answers at once for a position already reached', async () => {
    const waiter = new ProjectionWaiter({ position: 5n });
    expect(await waiter.wait(5n, 1_000)).toBe(true);
    const pending = waiter.wait(8n, 1_000);
    waiter.advance(7n);
    waiter.advance(8n);
    expect(await pending).toBe(true);
  });

  it('answers false after the timeout, and on close; after close it answers from the last position', async () => {
    const waiter = new ProjectionWaiter();
    expect(await waiter.wait(1n, 20)).toBe(false);
    const pending = waiter.wait(3n, 10_000);
    waiter.close();
    expect(await pending).toBe(false);
    waiter.advance(3n);
    expect(await waiter.wait(3n, 10_000)).toBe(true);
    expect(await waiter.wait(4n, 10_000)).toBe(false);
  });

  it('shares one poll among its waits, backs off, and stops polling when none is left', async () => {
    let reads = 0;
    let stored = 0n;
    const waiter = new ProjectionWaiter({
      poll: {
        read: async () => {
          reads++;
          return stored;
        },
        intervalMs: 2,
        maxIntervalMs: 8,
      },
    });
    const a = waiter.wait(2n, 5_000);
    const b = waiter.wait(3n, 5_000);
    await new Promise((r) => setTimeout(r, 30));
    stored = 3n;
    expect(await Promise.all([a, b])).toEqual([true, true]);
    const afterSettle = reads;
    // Below 30 ms / 2 ms: the interval doubles rather than reading every 2 ms.
    expect(afterSettle).toBeLessThan(12);
    await new Promise((r) => setTimeout(r, 40));
    expect(reads).toBe(afterSettle);
  });

  it('fails pending waits with a read error when the poll has no onError, and reports it otherwise', async () => {
    const failing = new ProjectionWaiter({
      poll: { read: () => Promise.reject(new Error('database down')), intervalMs: 1, maxIntervalMs: 1 },
    });
    await expect(failing.wait(1n, 5_000)).rejects.toThrow('database down');

    const errors: unknown[] = [];
    const reporting = new ProjectionWaiter({
      poll: {
        read: () => Promise.reject(new Error('database down')),
        intervalMs: 1,
        maxIntervalMs: 1,
        onError: (err) => errors.push(err),
      },
    });
    expect(await reporting.wait(1n, 30)).toBe(false);
    expect(errors.length).toBeGreaterThan(0);
  });
});
