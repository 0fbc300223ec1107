/**
 * The contract every `Placement` adapter passes. Adapters on a real clock wait for real (short
 * TTLs are 300 ms); the memory adapter advances a fake clock in `wait`. Each fixture is a fresh,
 * empty placement (a unique namespace on a shared server); nothing is flushed.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Placement, SfuNode } from '../placement';

export interface PlacementFixture {
  /** An empty placement: no node has ever heartbeated in it. */
  readonly placement: Placement;
  /** Lets `ms` pass on the placement's clock: real sleeping, or advancing a fake clock. */
  wait(ms: number): Promise<void>;
  readonly cleanup?: () => Promise<void>;
}

/** Builds a fresh placement; called once per test. */
export type PlacementFactory = () => Promise<PlacementFixture>;

/** TTL of records a test lets expire: far above call latency, short to wait out. */
export const SHORT_TTL_MS = 300;
/** TTL of records that must outlive the test. */
const LONG_TTL_MS = 30_000;
/** Slack added when waiting a TTL out, for latency between client and server. */
const SLACK_MS = 50;

/** A node with a signaling URL derived from its id; capacity 100 and run `run-1` unless given. */
export function sfuNode(nodeId: string, load: number, capacity = 100, instance = 'run-1'): SfuNode {
  return { nodeId, signalingUrl: `wss://${nodeId.toLowerCase()}.sfu.test/ws`, load, capacity, instance };
}

const meeting = (label: string) => `${label}-${randomUUID()}`;

/** Resolves after `n` turns of the event loop, letting I/O and other callers progress. */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

/** Defines the contract suite for one adapter. */
export function runPlacementContract(name: string, factory: PlacementFactory): void {
  describe(`Placement contract: ${name}`, () => {
    const fixtures: PlacementFixture[] = [];

    async function make(): Promise<PlacementFixture> {
      const fixture = await factory();
      fixtures.push(fixture);
      return fixture;
    }

    afterEach(async () => {
      for (const f of fixtures.splice(0)) {
        await f.placement.close();
        await f.cleanup?.();
      }
    });

    async function nodeIdFor(
      placement: Placement,
      meetingId: string,
      assignmentTtlMs?: number,
    ): Promise<string | undefined> {
      const node = await placement.nodeFor(meetingId, assignmentTtlMs === undefined ? undefined : { assignmentTtlMs });
      return node?.nodeId;
    }

    it('lists heartbeating nodes by id with what they last reported', async () => {
      const { placement } = await make();
      expect(await placement.liveNodes()).toEqual([]);
      await placement.heartbeat(sfuNode('sfu-b', 10), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('sfu-a', 5, 50), LONG_TTL_MS);
      expect(await placement.liveNodes()).toEqual([sfuNode('sfu-a', 5, 50), sfuNode('sfu-b', 10)]);
      await placement.heartbeat(sfuNode('sfu-a', 40, 50), LONG_TTL_MS);
      expect(await placement.liveNodes()).toEqual([sfuNode('sfu-a', 40, 50), sfuNode('sfu-b', 10)]);
    });

    it('drops a node that stops heartbeating for its ttl and no longer chooses it', async () => {
      const { placement, wait } = await make();
      await placement.heartbeat(sfuNode('idle', 0), SHORT_TTL_MS);
      await placement.heartbeat(sfuNode('busy', 90), LONG_TTL_MS);
      expect(await nodeIdFor(placement, meeting('before'))).toBe('idle');
      await wait(SHORT_TTL_MS + SLACK_MS);
      expect(await placement.liveNodes()).toEqual([sfuNode('busy', 90)]);
      expect(await nodeIdFor(placement, meeting('after'))).toBe('busy');
    });

    it('keeps a node live while it heartbeats within its ttl', async () => {
      const { placement, wait } = await make();
      // 1,200 ms in all, more than one TTL: only the second beat keeps it; 400 ms of slack for the
      // calls themselves on a busy machine (Redis sleeps for real).
      await placement.heartbeat(sfuNode('sfu-a', 1), 1_000);
      await wait(600);
      await placement.heartbeat(sfuNode('sfu-a', 2), 1_000);
      await wait(600);
      expect(await placement.liveNodes()).toEqual([sfuNode('sfu-a', 2)]);
    });

    it('chooses the live node with the lowest load/capacity, not the lowest load', async () => {
      const { placement } = await make();
      await placement.heartbeat(sfuNode('half', 50, 100), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('three-quarters', 30, 40), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('quarter', 100, 400), LONG_TTL_MS);
      expect(await placement.nodeFor(meeting('ratio'))).toEqual(sfuNode('quarter', 100, 400));
    });

    it('breaks load ties by nodeId in plain character-code order', async () => {
      const { placement } = await make();
      // 1/10 = 10/100 exactly; 'node-B' < 'node-a' < 'node.a' by code (a locale would say otherwise).
      await placement.heartbeat(sfuNode('node.a', 1, 10), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('node-a', 10, 100), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('node-B', 20, 200), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('node-0', 11, 100), LONG_TTL_MS);
      expect(await nodeIdFor(placement, meeting('tie'))).toBe('node-B');
      await placement.deregister('node-B');
      expect(await nodeIdFor(placement, meeting('tie'))).toBe('node-a');
      await placement.deregister('node-a');
      expect(await nodeIdFor(placement, meeting('tie'))).toBe('node.a');
    });

    it('keeps a meeting on its node while that node lives, even when another becomes less loaded', async () => {
      const { placement } = await make();
      await placement.heartbeat(sfuNode('sfu-a', 10), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('sfu-b', 50), LONG_TTL_MS);
      const m = meeting('sticky');
      expect(await placement.nodeFor(m)).toEqual(sfuNode('sfu-a', 10));
      await placement.heartbeat(sfuNode('sfu-a', 90), LONG_TTL_MS);
      // The current record of the host, not the one seen at assignment.
      expect(await placement.nodeFor(m)).toEqual(sfuNode('sfu-a', 90));
      expect(await nodeIdFor(placement, meeting('other'))).toBe('sfu-b');
    });

    it('gives 20 concurrent callers for one meeting the same node while loads keep changing', async () => {
      const { placement } = await make();
      await placement.heartbeat(sfuNode('sfu-a', 50), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('sfu-b', 50), LONG_TTL_MS);
      // Heartbeats keep flipping the least-loaded node while callers start a few event-loop
      // turns apart, so callers that read, chose and wrote in separate steps would disagree.
      let flipping = true;
      const flipper = (async () => {
        for (let i = 0; flipping; i++) {
          await Promise.all([
            placement.heartbeat(sfuNode('sfu-a', i % 2 === 0 ? 90 : 10), LONG_TTL_MS),
            placement.heartbeat(sfuNode('sfu-b', i % 2 === 0 ? 10 : 90), LONG_TTL_MS),
          ]);
          await turns(1);
        }
      })();
      const meetings = Array.from({ length: 10 }, (_, i) => meeting(`race-${i}`));
      const answers = await Promise.all(
        meetings.flatMap((m) =>
          Array.from({ length: 20 }, async (_, k) => {
            await turns(k % 4);
            return [m, await nodeIdFor(placement, m)] as const;
          }),
        ),
      );
      flipping = false;
      await flipper;
      for (const m of meetings) {
        const nodes = new Set(answers.filter(([id]) => id === m).map(([, nodeId]) => nodeId));
        expect(nodes.size, `callers disagree on ${m}: ${[...nodes].join(', ')}`).toBe(1);
        const [only] = nodes;
        expect(['sfu-a', 'sfu-b']).toContain(only);
        expect(await nodeIdFor(placement, m)).toBe(only);
      }
    });

    it("moves a dead node's meetings to a live node, once, however many callers ask at once", async () => {
      const { placement, wait } = await make();
      await placement.heartbeat(sfuNode('doomed', 0), SHORT_TTL_MS);
      await placement.heartbeat(sfuNode('survivor-a', 60), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('survivor-b', 50), LONG_TTL_MS);
      const m1 = meeting('moved');
      const m2 = meeting('moved');
      expect(await nodeIdFor(placement, m1)).toBe('doomed');
      expect(await nodeIdFor(placement, m2)).toBe('doomed');
      await wait(SHORT_TTL_MS + SLACK_MS);

      const answers = await Promise.all(Array.from({ length: 20 }, () => nodeIdFor(placement, m1)));
      expect(new Set(answers)).toEqual(new Set(['survivor-b']));
      // Once moved, the meeting stays put even if the new host stops being the least loaded.
      await placement.heartbeat(sfuNode('survivor-b', 99), LONG_TTL_MS);
      expect(await nodeIdFor(placement, m1)).toBe('survivor-b');
      expect(await nodeIdFor(placement, m2)).toBe('survivor-a');

      // The dead node coming back does not take its old meetings back; new meetings may go to it.
      await placement.heartbeat(sfuNode('doomed', 0), LONG_TTL_MS);
      expect(await nodeIdFor(placement, m1)).toBe('survivor-b');
      expect(await nodeIdFor(placement, m2)).toBe('survivor-a');
      expect(await nodeIdFor(placement, meeting('new'))).toBe('doomed');
    });

    it('releases an assignment only for the node it points at', async () => {
      const { placement } = await make();
      await placement.heartbeat(sfuNode('sfu-a', 10), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('sfu-b', 50), LONG_TTL_MS);
      const m = meeting('release');
      expect(await nodeIdFor(placement, m)).toBe('sfu-a');
      await placement.heartbeat(sfuNode('sfu-a', 90), LONG_TTL_MS);
      await placement.release(m, 'sfu-b');
      expect(await nodeIdFor(placement, m)).toBe('sfu-a');
      await placement.release(m, 'sfu-a');
      expect(await nodeIdFor(placement, m)).toBe('sfu-b');
      await placement.release(meeting('never-placed'), 'sfu-a');
    });

    it('expires an assignment its host does not touch; nodeFor alone does not extend it', async () => {
      const { placement, wait } = await make();
      await placement.heartbeat(sfuNode('sfu-a', 10), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('sfu-b', 50), LONG_TTL_MS);
      const m = meeting('untouched');
      // 400 ms of slack on each side of the 1,000 ms assignment for the calls themselves.
      expect(await nodeIdFor(placement, m, 1_000)).toBe('sfu-a');
      await placement.heartbeat(sfuNode('sfu-a', 90), LONG_TTL_MS);
      await wait(600);
      expect(await nodeIdFor(placement, m, 1_000)).toBe('sfu-a');
      await wait(400 + SLACK_MS);
      expect(await nodeIdFor(placement, m, 1_000)).toBe('sfu-b');
    });

    it('keeps an assignment alive while its host touches it', async () => {
      const { placement, wait } = await make();
      await placement.heartbeat(sfuNode('sfu-a', 10), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('sfu-b', 50), LONG_TTL_MS);
      const m = meeting('touched');
      expect(await nodeIdFor(placement, m, 1_000)).toBe('sfu-a');
      await placement.heartbeat(sfuNode('sfu-a', 90), LONG_TTL_MS);
      await wait(600);
      await placement.touch(m, 'sfu-a', 1_000);
      await wait(600);
      expect(await nodeIdFor(placement, m)).toBe('sfu-a');
      await wait(400 + SLACK_MS);
      expect(await nodeIdFor(placement, m)).toBe('sfu-b');
    });

    it("lets touch re-create its own expired assignment but never take another node's meeting", async () => {
      const { placement, wait } = await make();
      await placement.heartbeat(sfuNode('sfu-a', 10), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('sfu-b', 50), LONG_TTL_MS);
      const m = meeting('touch-owner');
      expect(await nodeIdFor(placement, m, SHORT_TTL_MS)).toBe('sfu-a');
      await placement.touch(m, 'sfu-b', LONG_TTL_MS);
      expect(await nodeIdFor(placement, m)).toBe('sfu-a');
      await wait(SHORT_TTL_MS + SLACK_MS);
      // The assignment lapsed while sfu-b still hosts the room: its touch claims the meeting back.
      await placement.touch(m, 'sfu-b', LONG_TTL_MS);
      expect(await nodeIdFor(placement, m)).toBe('sfu-b');
    });

    it('deregisters a node: it leaves liveNodes at once and its meetings are re-placed', async () => {
      const { placement } = await make();
      await placement.heartbeat(sfuNode('sfu-a', 10), LONG_TTL_MS);
      await placement.heartbeat(sfuNode('sfu-b', 50), LONG_TTL_MS);
      const m = meeting('deregister');
      expect(await nodeIdFor(placement, m)).toBe('sfu-a');
      await placement.deregister('sfu-a');
      expect(await placement.liveNodes()).toEqual([sfuNode('sfu-b', 50)]);
      expect(await nodeIdFor(placement, m)).toBe('sfu-b');
      await placement.deregister('never-registered');
      expect(await placement.liveNodes()).toEqual([sfuNode('sfu-b', 50)]);
    });

    it('remembers when each run of a node was last seen: after it dies, after a restart under the same id, after it deregisters', async () => {
      const { placement, wait } = await make();
      expect(await placement.lastSeen('sfu-a', 'run-1')).toBeUndefined();
      await placement.heartbeat(sfuNode('sfu-a', 0, 100, 'run-1'), SHORT_TTL_MS);
      const first = await placement.lastSeen('sfu-a', 'run-1');
      expect(first).toBeDefined();
      expect(first!.ageMs).toBeGreaterThanOrEqual(0);
      expect(first!.ageMs).toBeLessThan(SHORT_TTL_MS);

      await wait(SHORT_TTL_MS + SLACK_MS);
      expect(await placement.liveNodes()).toEqual([]);
      const dead = await placement.lastSeen('sfu-a', 'run-1');
      expect(dead!.at.getTime()).toBe(first!.at.getTime());
      expect(dead!.ageMs).toBeGreaterThanOrEqual(SHORT_TTL_MS);

      // The node comes back under the same id: a new run, live; the dead run keeps its time.
      await placement.heartbeat(sfuNode('sfu-a', 0, 100, 'run-2'), LONG_TTL_MS);
      expect(await placement.liveNodes()).toEqual([sfuNode('sfu-a', 0, 100, 'run-2')]);
      expect((await placement.lastSeen('sfu-a', 'run-1'))!.at.getTime()).toBe(first!.at.getTime());
      const second = await placement.lastSeen('sfu-a', 'run-2');
      expect(second!.at.getTime()).toBeGreaterThan(first!.at.getTime());

      await wait(100);
      await placement.deregister('sfu-a');
      expect(await placement.liveNodes()).toEqual([]);
      const deregistered = await placement.lastSeen('sfu-a', 'run-2');
      expect(deregistered!.at.getTime()).toBeGreaterThanOrEqual(second!.at.getTime() + 100);
      expect(deregistered!.ageMs).toBeLessThan(SHORT_TTL_MS);

      expect(await placement.lastSeen('sfu-a', 'run-9')).toBeUndefined();
      expect(await placement.lastSeen('sfu-b', 'run-1')).toBeUndefined();
    });

    it('answers undefined when no node is live, and places the meeting once one is', async () => {
      const { placement, wait } = await make();
      const m = meeting('empty');
      expect(await placement.nodeFor(m)).toBeUndefined();
      await placement.heartbeat(sfuNode('sfu-a', 10), SHORT_TTL_MS);
      expect(await nodeIdFor(placement, m)).toBe('sfu-a');
      await wait(SHORT_TTL_MS + SLACK_MS);
      expect(await placement.liveNodes()).toEqual([]);
      expect(await placement.nodeFor(m)).toBeUndefined();
      expect(await placement.nodeFor(meeting('empty'))).toBeUndefined();
      await placement.heartbeat(sfuNode('sfu-b', 10), LONG_TTL_MS);
      expect(await nodeIdFor(placement, m)).toBe('sfu-b');
    });

    it('refuses bad input with an Error naming the field, and changes nothing', async () => {
      const { placement } = await make();
      const a = sfuNode('sfu-a', 10);
      await placement.heartbeat(a, LONG_TTL_MS);
      const m = meeting('bad-input');
      expect(await nodeIdFor(placement, m)).toBe('sfu-a');

      await expect(placement.heartbeat({ ...a, nodeId: '' }, LONG_TTL_MS)).rejects.toThrow(/nodeId/);
      await expect(placement.heartbeat({ ...a, nodeId: 'has space' }, LONG_TTL_MS)).rejects.toThrow(/nodeId/);
      await expect(placement.heartbeat({ ...a, load: -1 }, LONG_TTL_MS)).rejects.toThrow(/load/);
      await expect(placement.heartbeat({ ...a, load: 1.5 }, LONG_TTL_MS)).rejects.toThrow(/load/);
      await expect(placement.heartbeat({ ...a, load: Number.NaN }, LONG_TTL_MS)).rejects.toThrow(/load/);
      await expect(placement.heartbeat({ ...a, capacity: 0 }, LONG_TTL_MS)).rejects.toThrow(/capacity/);
      await expect(placement.heartbeat({ ...a, signalingUrl: '' }, LONG_TTL_MS)).rejects.toThrow(/signalingUrl/);
      await expect(placement.heartbeat({ ...a, signalingUrl: 'not a url' }, LONG_TTL_MS)).rejects.toThrow(
        /signalingUrl/,
      );
      await expect(placement.heartbeat({ ...a, instance: '' }, LONG_TTL_MS)).rejects.toThrow(/instance/);
      await expect(placement.heartbeat({ ...a, instance: 'run/1' }, LONG_TTL_MS)).rejects.toThrow(/instance/);
      await expect(placement.heartbeat({ ...a, load: 0 }, 0)).rejects.toThrow(/ttlMs/);
      await expect(placement.heartbeat({ ...a, load: 0 }, -5)).rejects.toThrow(/ttlMs/);
      await expect(placement.heartbeat({ ...a, load: 0 }, 2.5)).rejects.toThrow(/ttlMs/);
      await expect(placement.heartbeat(sfuNode('sfu-b', 0), 0)).rejects.toThrow(/ttlMs/);
      expect(await placement.liveNodes()).toEqual([a]);

      await expect(placement.nodeFor('')).rejects.toThrow(/meetingId/);
      await expect(placement.nodeFor('   ')).rejects.toThrow(/meetingId/);
      const unplaced = meeting('bad-ttl');
      await expect(placement.nodeFor(unplaced, { assignmentTtlMs: 0 })).rejects.toThrow(/assignmentTtlMs/);
      await expect(placement.nodeFor(unplaced, { assignmentTtlMs: -1 })).rejects.toThrow(/assignmentTtlMs/);

      await expect(placement.touch(m, '', LONG_TTL_MS)).rejects.toThrow(/nodeId/);
      await expect(placement.touch('', 'sfu-a', LONG_TTL_MS)).rejects.toThrow(/meetingId/);
      await expect(placement.touch(m, 'sfu-a', 0)).rejects.toThrow(/ttlMs/);
      await expect(placement.release(m, '')).rejects.toThrow(/nodeId/);
      await expect(placement.release('', 'sfu-a')).rejects.toThrow(/meetingId/);
      await expect(placement.deregister('')).rejects.toThrow(/nodeId/);
      await expect(placement.lastSeen('', 'run-1')).rejects.toThrow(/nodeId/);
      await expect(placement.lastSeen('sfu-a', 'has space')).rejects.toThrow(/instance/);

      // Nothing above took effect: sfu-a is still live and still hosts m, and the refused
      // nodeFor assigned nothing (unplaced goes to the node that is least loaded now).
      await placement.heartbeat(sfuNode('sfu-b', 0), LONG_TTL_MS);
      expect(await placement.liveNodes()).toEqual([a, sfuNode('sfu-b', 0)]);
      expect(await nodeIdFor(placement, m)).toBe('sfu-a');
      expect(await nodeIdFor(placement, unplaced)).toBe('sfu-b');
    });

    it('closes idempotently and refuses use afterwards', async () => {
      const { placement } = await make();
      await placement.close();
      await placement.close();
      await expect(placement.liveNodes()).rejects.toThrow(/closed/);
      await expect(placement.heartbeat(sfuNode('sfu-a', 0), LONG_TTL_MS)).rejects.toThrow(/closed/);
      await expect(placement.nodeFor(meeting('closed'))).rejects.toThrow(/closed/);
    });
  });
}
