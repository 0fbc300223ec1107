/**
 * The `Placement` port: which SFU node hosts which meeting, and which SFU nodes are alive.
 *
 * Nodes announce themselves with heartbeats that expire; a node that stops heartbeating
 * (crash, partition) drops out of {@link Placement.liveNodes} once its TTL runs out. A meeting
 * is assigned to a node the first time someone asks for it, and keeps that node for as long as
 * the node is live and the assignment is not released or left to expire. An assignment that
 * points at a dead node is replaced on the next lookup, so a dead node's meetings move to live
 * nodes one by one as they are asked for, with no sweeper process.
 *
 * Choosing: the live node with the lowest `load / capacity` (compared exactly by
 * cross-multiplication), ties broken by the smaller `nodeId`. A node at or over capacity is
 * still chosen when every node is: placing a meeting on a full cluster is the caller's call to
 * refuse, not the registry's. Loads are the ones the nodes last reported, so meetings placed
 * between two heartbeats all see the same numbers.
 *
 * Every adapter passes `runPlacementContract` (`@quorum/placement/contract`).
 */

/** One SFU node as it last reported itself. */
export interface SfuNode {
  /** Stable id of the node: 1 to 128 of `A-Z a-z 0-9 _ . : -`. */
  nodeId: string;
  /** Absolute URL clients open to signal with this node (e.g. `wss://sfu-1.example.com/ws`). */
  signalingUrl: string;
  /** Consumers currently forwarded; an integer from 0 to {@link MAX_COUNT} (may exceed `capacity`). */
  load: number;
  /** Consumer capacity of the node; an integer from 1 to {@link MAX_COUNT}. */
  capacity: number;
  /**
   * This run of the node, new each time it starts (1 to 64 of `A-Z a-z 0-9 _ . : -`), so a node
   * restarted under the same `nodeId` is told apart from the run that died.
   */
  instance: string;
}

/** When a run of a node was last heard of (see {@link Placement.lastSeen}). */
export interface NodeSighting {
  /** Its last heartbeat, or its deregistration, by the placement's clock. */
  at: Date;
  /** How long ago that was, by the same clock (so callers' clocks do not matter). */
  ageMs: number;
}

/** How long {@link Placement.lastSeen} remembers a run after its last heartbeat. */
export const SIGHTING_RETENTION_MS = 7 * 24 * 3_600_000;

/** Options of {@link Placement.nodeFor}. */
export interface NodeForOptions {
  /**
   * Lifetime of a new assignment in milliseconds, unless refreshed by {@link Placement.touch};
   * a positive integer, default {@link DEFAULT_ASSIGNMENT_TTL_MS}. An existing assignment
   * keeps its own expiry: only the hosting node extends it.
   */
  assignmentTtlMs?: number;
}

/** Meeting → SFU node placement and SFU node liveness; see the module header. */
export interface Placement {
  /** Node heartbeat: records/refreshes the node with its load; the record expires after ttlMs unless refreshed. */
  heartbeat(node: SfuNode, ttlMs: number): Promise<void>;
  /** Removes a node at shutdown (its meetings are re-placed on next lookup). Unknown ids are ignored. */
  deregister(nodeId: string): Promise<void>;
  /** Live nodes (heartbeat not expired), ordered by `nodeId`. */
  liveNodes(): Promise<SfuNode[]>;
  /**
   * When one run of a node last heartbeated (or deregistered), for up to
   * {@link SIGHTING_RETENTION_MS} after; undefined for a run never heard of or long gone.
   * Whoever finds a run dead uses it as the time the run's participants were lost.
   */
  lastSeen(nodeId: string, instance: string): Promise<NodeSighting | undefined>;
  /**
   * The node hosting `meetingId`: the existing assignment if that node is still live; otherwise
   * atomically assigns the least-loaded live node (load/capacity ratio, ties by nodeId), so two
   * concurrent callers for the same meeting get the same node. Returns undefined when no node
   * is live. The assignment expires after `assignmentTtlMs` unless touched.
   */
  nodeFor(meetingId: string, options?: NodeForOptions): Promise<SfuNode | undefined>;
  /**
   * Refreshes a meeting's assignment TTL (called by the node hosting it while the room lives).
   * Re-creates the assignment if it has expired, since the room still lives on `nodeId`; does
   * nothing when the meeting has meanwhile been assigned to another node.
   */
  touch(meetingId: string, nodeId: string, ttlMs: number): Promise<void>;
  /** Drops a meeting's assignment (room closed), only if it still points at nodeId. */
  release(meetingId: string, nodeId: string): Promise<void>;
  /** Releases the adapter's resources (never a caller-owned client); idempotent. Later calls throw. */
  close(): Promise<void>;
}

/** Lifetime of an assignment when {@link NodeForOptions.assignmentTtlMs} is not given. */
export const DEFAULT_ASSIGNMENT_TTL_MS = 60_000;

/**
 * Upper bound of `load` and `capacity`: far above any SFU node, and low enough that
 * `load * capacity` products stay exact in doubles (Redis' Lua compares with them too).
 */
export const MAX_COUNT = 1_000_000;

const NODE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const INSTANCE = /^[A-Za-z0-9_.:-]{1,64}$/;
const MAX_MEETING_ID_LENGTH = 256;

/** Throws unless `nodeId` is a valid node id. */
export function checkNodeId(nodeId: string): string {
  // The charset keeps ids byte-comparable the same way in JS and in Redis' Lua, and key-safe.
  if (typeof nodeId !== 'string' || !NODE_ID.test(nodeId)) {
    throw new RangeError(
      `placement: nodeId must be 1 to 128 letters, digits, '_', '.', ':' or '-', got ${JSON.stringify(nodeId)}`,
    );
  }
  return nodeId;
}

/** Throws unless `instance` is a valid run id. */
export function checkInstance(instance: string): string {
  if (typeof instance !== 'string' || !INSTANCE.test(instance)) {
    throw new RangeError(
      `placement: instance must be 1 to 64 letters, digits, '_', '.', ':' or '-', got ${JSON.stringify(instance)}`,
    );
  }
  return instance;
}

/** Throws unless `meetingId` is a non-blank string of at most 256 characters. */
export function checkMeetingId(meetingId: string): string {
  if (typeof meetingId !== 'string' || meetingId.trim().length === 0 || meetingId.length > MAX_MEETING_ID_LENGTH) {
    throw new RangeError(
      `placement: meetingId must be a non-blank string of at most ${MAX_MEETING_ID_LENGTH} characters, got ${JSON.stringify(meetingId)}`,
    );
  }
  return meetingId;
}

/** Throws unless `ttlMs` is a positive integer; `what` names it in the message. */
export function checkTtl(what: string, ttlMs: number): number {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) {
    throw new RangeError(`placement: ${what} must be a positive integer of milliseconds, got ${ttlMs}`);
  }
  return ttlMs;
}

/** Throws unless `node` is a valid {@link SfuNode}; returns a copy holding only its fields. */
export function checkNode(node: SfuNode): SfuNode {
  if (typeof node !== 'object' || node === null)
    throw new TypeError(`placement: node must be an object, got ${String(node)}`);
  const nodeId = checkNodeId(node.nodeId);
  if (typeof node.signalingUrl !== 'string' || !URL.canParse(node.signalingUrl)) {
    throw new RangeError(
      `placement: node ${nodeId}: signalingUrl must be an absolute URL, got ${JSON.stringify(node.signalingUrl)}`,
    );
  }
  if (!Number.isSafeInteger(node.load) || node.load < 0 || node.load > MAX_COUNT) {
    throw new RangeError(`placement: node ${nodeId}: load must be an integer from 0 to ${MAX_COUNT}, got ${node.load}`);
  }
  if (!Number.isSafeInteger(node.capacity) || node.capacity < 1 || node.capacity > MAX_COUNT) {
    throw new RangeError(
      `placement: node ${nodeId}: capacity must be an integer from 1 to ${MAX_COUNT}, got ${node.capacity}`,
    );
  }
  const instance = checkInstance(node.instance);
  return { nodeId, signalingUrl: node.signalingUrl, load: node.load, capacity: node.capacity, instance };
}

/** The assignment TTL of a {@link Placement.nodeFor} call, validated. */
export function assignmentTtlOf(options: NodeForOptions | undefined): number {
  return checkTtl('assignmentTtlMs', options?.assignmentTtlMs ?? DEFAULT_ASSIGNMENT_TTL_MS);
}

/**
 * Orders nodes by preference: lower `load / capacity` first, then smaller `nodeId`. Exact:
 * ratios are compared by cross-multiplication, so 1/3 and 2/6 tie.
 */
export function compareNodes(a: SfuNode, b: SfuNode): number {
  const byLoad = a.load * b.capacity - b.load * a.capacity;
  if (byLoad !== 0) return byLoad;
  return a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0;
}
