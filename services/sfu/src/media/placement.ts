/**
 * Where a room puts its next peer. Pure: the room passes the live workers' loads.
 *
 * A room has one router per worker it uses and a *current* worker, where new peers go while
 * that worker is under its consumer budget. A worker is full once its consumer count (every
 * consumer on it, pipe consumers included, across all rooms) has reached the budget. Then the
 * room moves on to the least loaded other worker that is under budget (reusing the room's
 * router there, or creating one), which becomes the room's current worker. When every worker
 * is full the least loaded one is used anyway: the budget steers placement, it never refuses a
 * peer. Ties prefer a worker where the room already has a router (no new router, no new pipes),
 * then the lowest index.
 */

/** A live worker's load as the placement sees it. */
export interface WorkerLoad {
  index: number;
  /** Consumers on the worker (all rooms, pipe consumers included). */
  consumers: number;
}

export interface PlacementInput {
  /** Live workers only (a worker being replaced is left out). */
  workers: readonly WorkerLoad[];
  /** Workers on which the room already has a router. */
  roomWorkerIndexes: ReadonlySet<number>;
  /** The room's current worker; `undefined` for a new room or after it died. */
  currentWorkerIndex: number | undefined;
  /** Consumers per worker; a worker at or above it is full. */
  consumerBudget: number;
}

/**
 * - `current`: the room's current worker is under budget.
 * - `first`: the room has no (live) current worker; least loaded worker under budget.
 * - `spill`: the current worker is full; least loaded other worker under budget.
 * - `over-budget`: every worker is full; least loaded worker overall.
 */
export type PlacementReason = 'current' | 'first' | 'spill' | 'over-budget';

/** Where the room's next peer goes: a mediasoup worker of this node (not `@quorum/placement`'s meeting → node). */
export interface WorkerPlacement {
  workerIndex: number;
  reason: PlacementReason;
  /** The room has no router on that worker yet. */
  newRouter: boolean;
}

/** The worker for the room's next peer, or `undefined` when no worker is alive. */
export function choosePlacement(input: PlacementInput): WorkerPlacement | undefined {
  const { workers, roomWorkerIndexes, currentWorkerIndex, consumerBudget } = input;
  const placed = (worker: WorkerLoad, reason: PlacementReason): WorkerPlacement => ({
    workerIndex: worker.index,
    reason,
    newRouter: !roomWorkerIndexes.has(worker.index),
  });
  const current = workers.find((w) => w.index === currentWorkerIndex);
  if (current && current.consumers < consumerBudget) return placed(current, 'current');
  const underBudget = workers.filter((w) => w !== current && w.consumers < consumerBudget);
  const best = leastLoaded(underBudget, roomWorkerIndexes);
  if (best) return placed(best, current ? 'spill' : 'first');
  const fallback = leastLoaded(workers, roomWorkerIndexes);
  return fallback ? placed(fallback, 'over-budget') : undefined;
}

function leastLoaded(workers: readonly WorkerLoad[], roomWorkerIndexes: ReadonlySet<number>): WorkerLoad | undefined {
  let best: WorkerLoad | undefined;
  for (const w of workers) {
    if (!best || compare(w, best, roomWorkerIndexes) < 0) best = w;
  }
  return best;
}

function compare(a: WorkerLoad, b: WorkerLoad, roomWorkerIndexes: ReadonlySet<number>): number {
  if (a.consumers !== b.consumers) return a.consumers - b.consumers;
  const aHas = roomWorkerIndexes.has(a.index) ? 0 : 1;
  const bHas = roomWorkerIndexes.has(b.index) ? 0 : 1;
  if (aHas !== bHas) return aHas - bHas;
  return a.index - b.index;
}
