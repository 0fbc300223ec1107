/**
 * Redis `Placement`, shared by every gateway and SFU node using the same Redis. Keys, with the
 * namespace as a hash tag so they all live in one cluster slot:
 *
 * - `{ns}:node:<nodeId>`       JSON `{ signalingUrl, load, capacity }`, `PX` = heartbeat TTL.
 *                              Its existence is the node's liveness.
 * - `{ns}:nodes`               set of node ids that may be live: the index to enumerate nodes.
 *                              Scripts drop ids whose record has expired; the set itself
 *                              expires with the longest-lived heartbeat, so nothing lingers.
 * - `{ns}:meeting:<meetingId>` node id hosting the meeting, `PX` = assignment TTL.
 * - `{ns}:seen:<nodeId>/<instance>` Redis' own time (ms) of that run's last heartbeat or its
 *                              deregistration, kept for the sighting retention (7 days).
 *
 * Liveness rests only on Redis' own key expiry, so processes with skewed clocks agree and
 * there is no client clock to inject: tests wait for real. Every read-decide-write step is one
 * Lua script, so `nodeFor` is atomic however many processes call at once: the first caller
 * replaces a missing or dead assignment, later ones find the new one live and return it.
 *
 * The scripts read node records by keys built from the namespace rather than passed in KEYS;
 * that works on a single Redis and, thanks to the hash tag, in a cluster (same slot).
 */
import type { Redis } from 'ioredis';
import {
  assignmentTtlOf,
  checkMeetingId,
  checkNode,
  checkInstance,
  checkNodeId,
  checkTtl,
  SIGHTING_RETENTION_MS,
  type NodeForOptions,
  type NodeSighting,
  type Placement,
  type SfuNode,
} from '../placement';

// Redis' clock in milliseconds (scripts replicate their effects, so TIME is allowed).
const NOW_MS_LUA = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

// KEYS[1] index, KEYS[2] node record, KEYS[3] sighting of this run; ARGV nodeId, record JSON, ttlMs, retentionMs.
const HEARTBEAT_LUA = `${NOW_MS_LUA}
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ttl)
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
redis.call('SET', KEYS[3], nowMs(), 'PX', tonumber(ARGV[4]))
return 1
`;

// KEYS[1] index, KEYS[2] node record; ARGV nodeId, sighting key prefix, retentionMs.
// The run being deregistered is last seen now.
const DEREGISTER_LUA = `${NOW_MS_LUA}
local record = redis.call('GET', KEYS[2])
if record then
  local ok, node = pcall(cjson.decode, record)
  if ok and type(node) == 'table' and type(node.instance) == 'string' then
    redis.call('SET', ARGV[2] .. ARGV[1] .. '/' .. node.instance, nowMs(), 'PX', tonumber(ARGV[3]))
  end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[1], ARGV[1])
return 1
`;

// KEYS[1] sighting. Returns { seenMs, nowMs } or false.
const LAST_SEEN_LUA = `${NOW_MS_LUA}
local seen = redis.call('GET', KEYS[1])
if not seen then
  return false
end
return { seen, tostring(nowMs()) }
`;

// KEYS[1] index; ARGV node key prefix. Returns { id1, json1, id2, json2, ... } of live nodes.
const LIVE_NODES_LUA = `
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local record = redis.call('GET', ARGV[1] .. id)
  if record then
    out[#out + 1] = id
    out[#out + 1] = record
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return out
`;

// KEYS[1] index, KEYS[2] meeting; ARGV node key prefix, assignment ttlMs.
// Returns { nodeId, json } of the hosting node, or nil when no node is live.
// Ids are compared byte by byte: Lua's '<' on strings follows Redis' locale (strcoll).
const NODE_FOR_LUA = `
local current = redis.call('GET', KEYS[2])
if current then
  local record = redis.call('GET', ARGV[1] .. current)
  if record then
    return { current, record }
  end
end

local function idBefore(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local bestId, bestRecord, bestLoad, bestCapacity
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local record = redis.call('GET', ARGV[1] .. id)
  if not record then
    redis.call('SREM', KEYS[1], id)
  else
    local node = cjson.decode(record)
    local better = bestId == nil
    if not better then
      local a, b = node.load * bestCapacity, bestLoad * node.capacity
      better = a < b or (a == b and idBefore(id, bestId))
    end
    if better then
      bestId, bestRecord, bestLoad, bestCapacity = id, record, node.load, node.capacity
    end
  end
end
if bestId == nil then
  return false
end
redis.call('SET', KEYS[2], bestId, 'PX', tonumber(ARGV[2]))
return { bestId, bestRecord }
`;

// KEYS[1] meeting; ARGV nodeId, ttlMs. Claims a free meeting or refreshes its own.
const TOUCH_LUA = `
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
  return 1
end
return 0
`;

// KEYS[1] meeting; ARGV nodeId.
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

// Prefixed so several adapters (and versions) can define commands on one shared client.
const COMMANDS = {
  quorumPlacementHeartbeat: { numberOfKeys: 3, lua: HEARTBEAT_LUA },
  quorumPlacementDeregister: { numberOfKeys: 2, lua: DEREGISTER_LUA },
  quorumPlacementLastSeen: { numberOfKeys: 1, lua: LAST_SEEN_LUA },
  quorumPlacementLiveNodes: { numberOfKeys: 1, lua: LIVE_NODES_LUA },
  quorumPlacementNodeFor: { numberOfKeys: 2, lua: NODE_FOR_LUA },
  quorumPlacementTouch: { numberOfKeys: 1, lua: TOUCH_LUA },
  quorumPlacementRelease: { numberOfKeys: 1, lua: RELEASE_LUA },
} as const;

type WithPlacementCommands = Redis & {
  quorumPlacementHeartbeat(
    index: string,
    nodeKey: string,
    sightingKey: string,
    nodeId: string,
    record: string,
    ttlMs: number,
    retentionMs: number,
  ): Promise<number>;
  quorumPlacementDeregister(
    index: string,
    nodeKey: string,
    nodeId: string,
    sightingPrefix: string,
    retentionMs: number,
  ): Promise<number>;
  quorumPlacementLastSeen(sightingKey: string): Promise<[string, string] | null>;
  quorumPlacementLiveNodes(index: string, nodePrefix: string): Promise<string[]>;
  quorumPlacementNodeFor(
    index: string,
    meetingKey: string,
    nodePrefix: string,
    ttlMs: number,
  ): Promise<[string, string] | null>;
  quorumPlacementTouch(meetingKey: string, nodeId: string, ttlMs: number): Promise<number>;
  quorumPlacementRelease(meetingKey: string, nodeId: string): Promise<number>;
};

export interface RedisPlacementOptions {
  /** A client the caller owns; `close()` leaves it open. */
  redis: Redis;
  /** Prefix of every key (`{<namespace>}:...`): 1 to 64 of `A-Z a-z 0-9 _ . : -`. Default `placement`. */
  namespace?: string;
}

const NAMESPACE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The record stored under a node's key; the id is in the key. */
interface NodeRecord {
  signalingUrl: string;
  load: number;
  capacity: number;
  instance: string;
}

/** A `Placement` shared through Redis by every process using the same namespace. */
export class RedisPlacement implements Placement {
  private readonly redis: WithPlacementCommands;
  private readonly prefix: string;
  private closed = false;

  constructor(options: RedisPlacementOptions) {
    const namespace = options.namespace ?? 'placement';
    if (!NAMESPACE.test(namespace)) {
      throw new RangeError(
        `placement: namespace must be 1 to 64 letters, digits, '_', '.', ':' or '-', got ${JSON.stringify(namespace)}`,
      );
    }
    this.prefix = `{${namespace}}:`;
    // Defining a command again on a shared client replaces it with the same script. ioredis
    // sends EVALSHA and falls back to EVAL when the server has not cached the script.
    for (const [name, definition] of Object.entries(COMMANDS)) options.redis.defineCommand(name, definition);
    this.redis = options.redis as WithPlacementCommands;
  }

  async heartbeat(node: SfuNode, ttlMs: number): Promise<void> {
    this.assertOpen();
    const { nodeId, signalingUrl, load, capacity, instance } = checkNode(node);
    checkTtl('ttlMs', ttlMs);
    const record: NodeRecord = { signalingUrl, load, capacity, instance };
    await this.redis.quorumPlacementHeartbeat(
      this.indexKey,
      this.nodeKey(nodeId),
      this.sightingKey(nodeId, instance),
      nodeId,
      JSON.stringify(record),
      ttlMs,
      SIGHTING_RETENTION_MS,
    );
  }

  async deregister(nodeId: string): Promise<void> {
    this.assertOpen();
    checkNodeId(nodeId);
    await this.redis.quorumPlacementDeregister(
      this.indexKey,
      this.nodeKey(nodeId),
      nodeId,
      this.sightingPrefix,
      SIGHTING_RETENTION_MS,
    );
  }

  async lastSeen(nodeId: string, instance: string): Promise<NodeSighting | undefined> {
    this.assertOpen();
    const found = await this.redis.quorumPlacementLastSeen(
      this.sightingKey(checkNodeId(nodeId), checkInstance(instance)),
    );
    if (found === null) return undefined;
    const [seenMs, nowMs] = found.map(Number) as [number, number];
    if (!Number.isSafeInteger(seenMs) || !Number.isSafeInteger(nowMs)) {
      throw new Error(`placement: run ${nodeId}/${instance} has a corrupt sighting in Redis: ${found[0]}`);
    }
    return { at: new Date(seenMs), ageMs: Math.max(0, nowMs - seenMs) };
  }

  async liveNodes(): Promise<SfuNode[]> {
    this.assertOpen();
    const flat = await this.redis.quorumPlacementLiveNodes(this.indexKey, this.nodeKey(''));
    const nodes: SfuNode[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) nodes.push(parseNode(flat[i]!, flat[i + 1]!));
    return nodes.sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
  }

  async nodeFor(meetingId: string, options?: NodeForOptions): Promise<SfuNode | undefined> {
    this.assertOpen();
    checkMeetingId(meetingId);
    const ttlMs = assignmentTtlOf(options);
    const found = await this.redis.quorumPlacementNodeFor(
      this.indexKey,
      this.meetingKey(meetingId),
      this.nodeKey(''),
      ttlMs,
    );
    return found === null ? undefined : parseNode(found[0], found[1]);
  }

  async touch(meetingId: string, nodeId: string, ttlMs: number): Promise<void> {
    this.assertOpen();
    checkMeetingId(meetingId);
    checkNodeId(nodeId);
    checkTtl('ttlMs', ttlMs);
    await this.redis.quorumPlacementTouch(this.meetingKey(meetingId), nodeId, ttlMs);
  }

  async release(meetingId: string, nodeId: string): Promise<void> {
    this.assertOpen();
    checkMeetingId(meetingId);
    checkNodeId(nodeId);
    await this.redis.quorumPlacementRelease(this.meetingKey(meetingId), nodeId);
  }

  /** Marks the adapter closed; the caller's client stays open. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('placement is closed');
  }

  private get indexKey(): string {
    return `${this.prefix}nodes`;
  }

  private nodeKey(nodeId: string): string {
    return `${this.prefix}node:${nodeId}`;
  }

  private get sightingPrefix(): string {
    return `${this.prefix}seen:`;
  }

  private sightingKey(nodeId: string, instance: string): string {
    return `${this.sightingPrefix}${nodeId}/${instance}`;
  }

  private meetingKey(meetingId: string): string {
    return `${this.prefix}meeting:${meetingId}`;
  }
}

/** Reads a stored node record, refusing one this adapter could not have written. */
function parseNode(nodeId: string, json: string): SfuNode {
  let record: Partial<NodeRecord>;
  try {
    record = JSON.parse(json) as Partial<NodeRecord>;
  } catch (error) {
    throw new Error(`placement: node ${nodeId} has a corrupt record in Redis: ${json}`, { cause: error });
  }
  const { signalingUrl, load, capacity, instance } = record;
  if (typeof signalingUrl !== 'string' || typeof load !== 'number' || typeof capacity !== 'number') {
    throw new Error(`placement: node ${nodeId} has a corrupt record in Redis: ${json}`);
  }
  // A node of a release before runs were recorded (a rolling upgrade) heartbeats without one.
  return { nodeId, signalingUrl, load, capacity, instance: typeof instance === 'string' ? instance : 'unrecorded' };
}
