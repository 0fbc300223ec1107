import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlacementContract, sfuNode } from '../contract/placement.contract';
import { SIGHTING_RETENTION_MS } from '../placement';
import { RedisPlacement } from './redis-placement';

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

/** A namespace no other test or run uses; every key of the placement lives under it. */
const uniqueNamespace = () => `placement-test-${randomUUID()}`;

/** Deletes whatever a test left under `namespace` (everything also expires on its own). */
async function dropNamespace(redis: Redis, namespace: string): Promise<void> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `{${namespace}}:*`, count: 100 }))
    keys.push(...(batch as string[]));
  if (keys.length > 0) await redis.del(...keys);
}

runPlacementContract('redis', async () => {
  const redis = await sharedClient();
  const namespace = uniqueNamespace();
  return {
    placement: new RedisPlacement({ redis, namespace }),
    wait: sleep,
    cleanup: () => dropNamespace(redis, namespace),
  };
});

describe('RedisPlacement', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await sharedClient();
  });

  it('keeps node records, the index and assignments under {namespace}: with their TTLs, and leaves only the sightings once they expire', async () => {
    const namespace = uniqueNamespace();
    const placement = new RedisPlacement({ redis, namespace });
    try {
      // TTLs long enough that the reads below finish well inside them on a busy machine.
      await placement.heartbeat(sfuNode('sfu-a', 3, 10), 1_500);
      await placement.heartbeat(sfuNode('sfu-b', 9, 10), 1_000);
      const nodeKey = `{${namespace}}:node:sfu-a`;
      expect(JSON.parse((await redis.get(nodeKey))!)).toEqual({
        signalingUrl: 'wss://sfu-a.sfu.test/ws',
        load: 3,
        capacity: 10,
        instance: 'run-1',
      });
      const nodeTtl = await redis.pttl(nodeKey);
      expect(nodeTtl).toBeGreaterThan(0);
      expect(nodeTtl).toBeLessThanOrEqual(1_500);
      expect((await redis.smembers(`{${namespace}}:nodes`)).sort()).toEqual(['sfu-a', 'sfu-b']);
      // The index lives as long as the longest-lived heartbeat, not the last one.
      expect(await redis.pttl(`{${namespace}}:nodes`)).toBeGreaterThan(1_000);

      expect((await placement.nodeFor('m-1', { assignmentTtlMs: 1_250 }))?.nodeId).toBe('sfu-a');
      expect(await redis.get(`{${namespace}}:meeting:m-1`)).toBe('sfu-a');
      const assignmentTtl = await redis.pttl(`{${namespace}}:meeting:m-1`);
      expect(assignmentTtl).toBeGreaterThan(0);
      expect(assignmentTtl).toBeLessThanOrEqual(1_250);

      await sleep(1_600);
      const left = (await redis.keys(`{${namespace}}:*`)).sort();
      expect(left).toEqual([`{${namespace}}:seen:sfu-a/run-1`, `{${namespace}}:seen:sfu-b/run-1`]);
      // A run's sighting outlives it by the retention, then goes too.
      const sightingTtl = await redis.pttl(left[0]!);
      expect(sightingTtl).toBeGreaterThan(SIGHTING_RETENTION_MS - 60_000);
      expect(sightingTtl).toBeLessThanOrEqual(SIGHTING_RETENTION_MS);
    } finally {
      await placement.close();
      await dropNamespace(redis, namespace);
    }
  });

  it('prunes expired node ids from the index when reading it', async () => {
    const namespace = uniqueNamespace();
    const placement = new RedisPlacement({ redis, namespace });
    try {
      await placement.heartbeat(sfuNode('gone', 0), 200);
      await placement.heartbeat(sfuNode('stays', 0), 10_000);
      await sleep(250);
      expect((await redis.smembers(`{${namespace}}:nodes`)).sort()).toEqual(['gone', 'stays']);
      expect((await placement.liveNodes()).map((n) => n.nodeId)).toEqual(['stays']);
      expect(await redis.smembers(`{${namespace}}:nodes`)).toEqual(['stays']);
    } finally {
      await placement.close();
      await dropNamespace(redis, namespace);
    }
  });

  it("agrees across five separate clients (processes) racing to replace a dead node's assignment", async () => {
    const namespace = uniqueNamespace();
    const clients = await Promise.all(Array.from({ length: 6 }, () => connect()));
    const placements = clients.map((client) => new RedisPlacement({ redis: client, namespace }));
    const [flipper, ...callers] = placements;
    let flipping = true;
    let flips = 0;
    try {
      await flipper!.heartbeat(sfuNode('doomed', 0), 10_000);
      await flipper!.heartbeat(sfuNode('sfu-a', 50), 10_000);
      await flipper!.heartbeat(sfuNode('sfu-b', 50), 10_000);
      const waves = Array.from({ length: 6 }, (_, w) => Array.from({ length: 40 }, (_, i) => `m-${w}-${i}`));
      const meetings = waves.flat();
      await Promise.all(meetings.map(async (m) => expect((await flipper!.nodeFor(m))?.nodeId).toBe('doomed')));
      // It dies: its record goes, as when its TTL runs out (the contract suite covers the expiry itself).
      await redis.del(`{${namespace}}:node:doomed`);

      // One process keeps flipping which survivor is least loaded, once per round trip, while
      // five others look up the same 40 meetings at once, wave after wave.
      const flipped = (async () => {
        for (let i = 0; flipping; i++, flips++) {
          await Promise.all([
            flipper!.heartbeat(sfuNode('sfu-a', i % 2 === 0 ? 90 : 10), 10_000),
            flipper!.heartbeat(sfuNode('sfu-b', i % 2 === 0 ? 10 : 90), 10_000),
          ]);
        }
      })();
      // Callers start a few event-loop turns apart so their steps interleave with the flips.
      const turns = async (n: number) => {
        for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
      };
      const answers: (readonly [string, string | undefined])[] = [];
      for (const wave of waves) {
        const lookups = callers.flatMap((placement, c) =>
          wave.map(async (m, i) => {
            await turns((c + i) % 4);
            return [m, (await placement.nodeFor(m))?.nodeId] as const;
          }),
        );
        answers.push(...(await Promise.all(lookups)));
      }
      flipping = false;
      await flipped;
      expect(flips).toBeGreaterThan(0);

      for (const m of meetings) {
        const nodes = new Set(answers.filter(([id]) => id === m).map(([, nodeId]) => nodeId));
        expect(nodes.size, `callers disagree on ${m}: ${[...nodes].join(', ')}`).toBe(1);
        const [only] = nodes;
        expect(['sfu-a', 'sfu-b']).toContain(only);
        expect(await redis.get(`{${namespace}}:meeting:${m}`)).toBe(only);
      }
    } finally {
      flipping = false;
      await Promise.all(placements.map((p) => p.close()));
      await Promise.all(clients.map((c) => c.quit()));
      await dropNamespace(redis, namespace);
    }
  });

  it('keeps namespaces apart on one client', async () => {
    const one = uniqueNamespace();
    const two = uniqueNamespace();
    const first = new RedisPlacement({ redis, namespace: one });
    const second = new RedisPlacement({ redis, namespace: two });
    try {
      await first.heartbeat(sfuNode('sfu-a', 0), 10_000);
      expect(await second.liveNodes()).toEqual([]);
      expect(await second.nodeFor('m')).toBeUndefined();
      expect((await first.nodeFor('m'))?.nodeId).toBe('sfu-a');
    } finally {
      await first.close();
      await second.close();
      await dropNamespace(redis, one);
      await dropNamespace(redis, two);
    }
  });

  it('reports a node record it could not have written instead of returning garbage', async () => {
    const namespace = uniqueNamespace();
    const placement = new RedisPlacement({ redis, namespace });
    try {
      await redis.set(`{${namespace}}:node:broken`, '{"load":1}', 'PX', 10_000);
      await redis.sadd(`{${namespace}}:nodes`, 'broken');
      await expect(placement.liveNodes()).rejects.toThrow(/node broken has a corrupt record/);
    } finally {
      await placement.close();
      await dropNamespace(redis, namespace);
    }
  });

  it('leaves a caller-owned client open on close', async () => {
    const placement = new RedisPlacement({ redis, namespace: uniqueNamespace() });
    await placement.close();
    await placement.close();
    expect(await redis.ping()).toBe('PONG');
  });

  it('refuses a namespace that could break out of its key prefix', () => {
    expect(() => new RedisPlacement({ redis, namespace: '' })).toThrow(/namespace/);
    expect(() => new RedisPlacement({ redis, namespace: 'a}b' })).toThrow(/namespace/);
    expect(() => new RedisPlacement({ redis, namespace: 'x'.repeat(65) })).toThrow(/namespace/);
  });
});
