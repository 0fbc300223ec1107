import { describe, expect, it } from 'vitest';
import { runPlacementContract, sfuNode } from '../contract/placement.contract';
import { DEFAULT_ASSIGNMENT_TTL_MS } from '../placement';
import { MemoryPlacement } from './memory-placement';

runPlacementContract('memory', async () => {
  let now = 1_700_000_000_000;
  return {
    placement: new MemoryPlacement({ now: () => now }),
    async wait(ms) {
      now += ms;
    },
  };
});

describe('MemoryPlacement', () => {
  it('keeps a node live until exactly ttlMs after its heartbeat', async () => {
    let now = 0;
    const placement = new MemoryPlacement({ now: () => now });
    await placement.heartbeat(sfuNode('sfu-a', 0), 1_000);
    now = 999;
    expect(await placement.liveNodes()).toHaveLength(1);
    now = 1_000;
    expect(await placement.liveNodes()).toEqual([]);
    expect(await placement.nodeFor('m')).toBeUndefined();
  });

  it('expires an assignment exactly assignmentTtlMs after it was made, default one minute', async () => {
    let now = 0;
    const placement = new MemoryPlacement({ now: () => now });
    await placement.heartbeat(sfuNode('sfu-a', 0), 10 * DEFAULT_ASSIGNMENT_TTL_MS);
    await placement.heartbeat(sfuNode('sfu-b', 50), 10 * DEFAULT_ASSIGNMENT_TTL_MS);
    expect((await placement.nodeFor('short', { assignmentTtlMs: 500 }))?.nodeId).toBe('sfu-a');
    expect((await placement.nodeFor('default'))?.nodeId).toBe('sfu-a');
    await placement.heartbeat(sfuNode('sfu-a', 90), 10 * DEFAULT_ASSIGNMENT_TTL_MS);

    now = 499;
    expect((await placement.nodeFor('short'))?.nodeId).toBe('sfu-a');
    now = 500;
    expect((await placement.nodeFor('short'))?.nodeId).toBe('sfu-b');
    now = DEFAULT_ASSIGNMENT_TTL_MS - 1;
    expect((await placement.nodeFor('default'))?.nodeId).toBe('sfu-a');
    now = DEFAULT_ASSIGNMENT_TTL_MS;
    expect((await placement.nodeFor('default'))?.nodeId).toBe('sfu-b');
  });

  it('extends an assignment to exactly ttlMs after the last touch', async () => {
    let now = 0;
    const placement = new MemoryPlacement({ now: () => now });
    await placement.heartbeat(sfuNode('sfu-a', 0), 60_000);
    await placement.heartbeat(sfuNode('sfu-b', 50), 60_000);
    await placement.nodeFor('m', { assignmentTtlMs: 1_000 });
    await placement.heartbeat(sfuNode('sfu-a', 90), 60_000);
    now = 900;
    await placement.touch('m', 'sfu-a', 1_000);
    now = 1_899;
    expect((await placement.nodeFor('m'))?.nodeId).toBe('sfu-a');
    now = 1_900;
    expect((await placement.nodeFor('m'))?.nodeId).toBe('sfu-b');
  });

  it('returns copies: changing an answer changes nothing stored', async () => {
    const placement = new MemoryPlacement();
    const reported = sfuNode('sfu-a', 1);
    await placement.heartbeat(reported, 60_000);
    reported.load = 99;
    const [listed] = await placement.liveNodes();
    listed!.load = 77;
    const chosen = await placement.nodeFor('m');
    expect(chosen).toEqual(sfuNode('sfu-a', 1));
    chosen!.capacity = 1;
    expect(await placement.liveNodes()).toEqual([sfuNode('sfu-a', 1)]);
  });
});
