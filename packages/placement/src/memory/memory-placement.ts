/**
 * In-process `Placement` for the embedded default (one process runs every SFU room) and unit
 * tests. Each method runs to completion without awaiting, so concurrent `nodeFor` calls are
 * serialized by the event loop and agree. Expiry follows the injected clock: a record written
 * at `t` with `ttlMs` is live while `now() < t + ttlMs`.
 *
 * Expired assignments are dropped when touched and by a sweep that runs at most once per
 * {@link SWEEP_INTERVAL_MS} of the clock, so meetings that are never asked for again do not
 * accumulate; sightings older than their retention go the same way.
 */
import {
  assignmentTtlOf,
  checkMeetingId,
  checkNode,
  checkInstance,
  checkNodeId,
  checkTtl,
  compareNodes,
  SIGHTING_RETENTION_MS,
  type NodeForOptions,
  type NodeSighting,
  type Placement,
  type SfuNode,
} from '../placement';

export interface MemoryPlacementOptions {
  /** Milliseconds since the epoch; injected so tests control time. Default `Date.now`. */
  now?: () => number;
}

const SWEEP_INTERVAL_MS = 10_000;

interface NodeEntry {
  node: SfuNode;
  expiresAt: number;
}

interface Assignment {
  nodeId: string;
  expiresAt: number;
}

/** A `Placement` held in this process's memory. */
export class MemoryPlacement implements Placement {
  private readonly now: () => number;
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly assignments = new Map<string, Assignment>();
  /** Last heartbeat (or deregistration) of each run, by `<nodeId>/<instance>`. */
  private readonly sightings = new Map<string, number>();
  private lastSweep: number;
  private closed = false;

  constructor(options: MemoryPlacementOptions = {}) {
    this.now = options.now ?? Date.now;
    this.lastSweep = this.now();
  }

  async heartbeat(node: SfuNode, ttlMs: number): Promise<void> {
    this.assertOpen();
    const checked = checkNode(node);
    checkTtl('ttlMs', ttlMs);
    const t = this.now();
    this.nodes.set(checked.nodeId, { node: checked, expiresAt: t + ttlMs });
    this.sightings.set(`${checked.nodeId}/${checked.instance}`, t);
  }

  async deregister(nodeId: string): Promise<void> {
    this.assertOpen();
    const entry = this.nodes.get(checkNodeId(nodeId));
    if (entry !== undefined) this.sightings.set(`${nodeId}/${entry.node.instance}`, this.now());
    this.nodes.delete(nodeId);
  }

  async lastSeen(nodeId: string, instance: string): Promise<NodeSighting | undefined> {
    this.assertOpen();
    const key = `${checkNodeId(nodeId)}/${checkInstance(instance)}`;
    const at = this.sightings.get(key);
    if (at === undefined) return undefined;
    const ageMs = this.now() - at;
    if (ageMs >= SIGHTING_RETENTION_MS) {
      this.sightings.delete(key);
      return undefined;
    }
    return { at: new Date(at), ageMs };
  }

  async liveNodes(): Promise<SfuNode[]> {
    this.assertOpen();
    const t = this.now();
    const live: SfuNode[] = [];
    for (const [nodeId, entry] of this.nodes) {
      if (entry.expiresAt > t) live.push({ ...entry.node });
      else this.nodes.delete(nodeId);
    }
    return live.sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
  }

  async nodeFor(meetingId: string, options?: NodeForOptions): Promise<SfuNode | undefined> {
    this.assertOpen();
    checkMeetingId(meetingId);
    const ttlMs = assignmentTtlOf(options);
    const t = this.now();
    this.sweep(t);
    const current = this.liveAssignment(meetingId, t);
    if (current !== undefined) {
      const host = this.liveNode(current.nodeId, t);
      if (host !== undefined) return { ...host };
    }
    let best: SfuNode | undefined;
    for (const entry of this.nodes.values()) {
      if (entry.expiresAt > t && (best === undefined || compareNodes(entry.node, best) < 0)) best = entry.node;
    }
    if (best === undefined) return undefined;
    this.assignments.set(meetingId, { nodeId: best.nodeId, expiresAt: t + ttlMs });
    return { ...best };
  }

  async touch(meetingId: string, nodeId: string, ttlMs: number): Promise<void> {
    this.assertOpen();
    checkMeetingId(meetingId);
    checkNodeId(nodeId);
    checkTtl('ttlMs', ttlMs);
    const t = this.now();
    const current = this.liveAssignment(meetingId, t);
    if (current === undefined || current.nodeId === nodeId)
      this.assignments.set(meetingId, { nodeId, expiresAt: t + ttlMs });
  }

  async release(meetingId: string, nodeId: string): Promise<void> {
    this.assertOpen();
    checkMeetingId(meetingId);
    checkNodeId(nodeId);
    if (this.liveAssignment(meetingId, this.now())?.nodeId === nodeId) this.assignments.delete(meetingId);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.nodes.clear();
    this.assignments.clear();
    this.sightings.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('placement is closed');
  }

  private liveNode(nodeId: string, t: number): SfuNode | undefined {
    const entry = this.nodes.get(nodeId);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > t) return entry.node;
    this.nodes.delete(nodeId);
    return undefined;
  }

  private liveAssignment(meetingId: string, t: number): Assignment | undefined {
    const assignment = this.assignments.get(meetingId);
    if (assignment === undefined) return undefined;
    if (assignment.expiresAt > t) return assignment;
    this.assignments.delete(meetingId);
    return undefined;
  }

  private sweep(t: number): void {
    if (t - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = t;
    for (const [meetingId, assignment] of this.assignments) {
      if (assignment.expiresAt <= t) this.assignments.delete(meetingId);
    }
    for (const [run, at] of this.sightings) {
      if (t - at >= SIGHTING_RETENTION_MS) this.sightings.delete(run);
    }
  }
}
