import { describe, expect, it } from 'vitest';
import { choosePlacement, type PlacementInput } from './placement';

const input = (overrides: Partial<PlacementInput>): PlacementInput => ({
  workers: [
    { index: 0, consumers: 0 },
    { index: 1, consumers: 0 },
  ],
  roomWorkerIndexes: new Set(),
  currentWorkerIndex: undefined,
  consumerBudget: 10,
  ...overrides,
});

describe('choosePlacement', () => {
  it('puts a new room on the least loaded worker', () => {
    const placement = choosePlacement(
      input({
        workers: [
          { index: 0, consumers: 5 },
          { index: 1, consumers: 2 },
        ],
      }),
    );
    expect(placement).toEqual({ workerIndex: 1, reason: 'first', newRouter: true });
  });

  it('breaks load ties by the lowest index', () => {
    expect(choosePlacement(input({}))).toEqual({ workerIndex: 0, reason: 'first', newRouter: true });
  });

  it('keeps the current worker while it is under budget, even if another is emptier', () => {
    const placement = choosePlacement(
      input({
        workers: [
          { index: 0, consumers: 9 },
          { index: 1, consumers: 0 },
        ],
        roomWorkerIndexes: new Set([0]),
        currentWorkerIndex: 0,
      }),
    );
    expect(placement).toEqual({ workerIndex: 0, reason: 'current', newRouter: false });
  });

  it('spills to the least loaded other worker once the current one reaches the budget', () => {
    const placement = choosePlacement(
      input({
        workers: [
          { index: 0, consumers: 10 },
          { index: 1, consumers: 7 },
          { index: 2, consumers: 3 },
        ],
        roomWorkerIndexes: new Set([0]),
        currentWorkerIndex: 0,
      }),
    );
    expect(placement).toEqual({ workerIndex: 2, reason: 'spill', newRouter: true });
  });

  it('prefers a worker where the room already has a router when loads tie', () => {
    const placement = choosePlacement(
      input({
        workers: [
          { index: 0, consumers: 12 },
          { index: 1, consumers: 4 },
          { index: 2, consumers: 4 },
        ],
        roomWorkerIndexes: new Set([0, 2]),
        currentWorkerIndex: 0,
      }),
    );
    expect(placement).toEqual({ workerIndex: 2, reason: 'spill', newRouter: false });
  });

  it('uses the least loaded worker when every worker is full, never refusing the peer', () => {
    const placement = choosePlacement(
      input({
        workers: [
          { index: 0, consumers: 14 },
          { index: 1, consumers: 11 },
        ],
        roomWorkerIndexes: new Set([0, 1]),
        currentWorkerIndex: 0,
      }),
    );
    expect(placement).toEqual({ workerIndex: 1, reason: 'over-budget', newRouter: false });
  });

  it('stays on a full current worker when it is still the least loaded of all', () => {
    const placement = choosePlacement(
      input({
        workers: [
          { index: 0, consumers: 10 },
          { index: 1, consumers: 12 },
        ],
        roomWorkerIndexes: new Set([0, 1]),
        currentWorkerIndex: 0,
      }),
    );
    expect(placement).toEqual({ workerIndex: 0, reason: 'over-budget', newRouter: false });
  });

  it('ignores a current worker that is no longer alive', () => {
    const placement = choosePlacement(
      input({ workers: [{ index: 1, consumers: 3 }], roomWorkerIndexes: new Set([0, 1]), currentWorkerIndex: 0 }),
    );
    expect(placement).toEqual({ workerIndex: 1, reason: 'first', newRouter: false });
  });

  it('returns undefined when no worker is alive', () => {
    expect(choosePlacement(input({ workers: [] }))).toBeUndefined();
  });
});
