/**
 * Several SFU nodes behind one gateway, as in production: each node heartbeats its signaling
 * URL and load into Redis; `meetings.join` sends a meeting to the least-loaded live node and
 * keeps it there; a node that stops heartbeating is no longer chosen. Real Redis, NATS,
 * Postgres and mediasoup workers.
 */
import { randomBytes } from 'node:crypto';
import { NatsBus } from '@quorum/bus/nats';
import { RedisPlacement } from '@quorum/placement/redis';
import { SignalingClient } from '@quorum/sfu/signaling/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../support/http-client';
import { createMeeting } from '../support/meetings';
import { meetingCast, type TestUser } from '../support/people';
import { startTestSfuNode, type TestSfuNode } from '../support/sfu-node';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let q: TestQuorum;
let owner: TestUser;
let host: TestUser;
let orgId: string;
let redis: Redis;
let bus: NatsBus;
const nodes: TestSfuNode[] = [];
const clients: SignalingClient[] = [];

async function startNode(nodeId: string, placementTiming: { heartbeatMs: number; ttlMs: number }) {
  const node = await startTestSfuNode(q, { nodeId, redis, bus, ...placementTiming });
  nodes.push(node);
  return node;
}

beforeAll(async () => {
  q = await startTestQuorum('placement', { SFU: 'off', REDIS_URL });
  redis = new Redis(REDIS_URL);
  bus = await NatsBus.create({ servers: q.env.NATS_URL!, name: 'placement-test', namespace: q.env.NATS_NAMESPACE! });
  ({ orgId, owner, host } = await meetingCast(q.http));
});

afterAll(async () => {
  for (const c of clients) c.close();
  for (const n of nodes) await n.close();
  await bus?.close();
  await redis?.quit();
  await q?.stop();
});

describe('placement across SFU nodes', () => {
  it('refuses a join clearly while no node is live', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, { token: host.token });
    expect(await failure(q.http.mutation('meetings.join', { orgId, sessionId }, { token: host.token }))).toMatchObject({
      status: 412,
      reason: 'meetings.no_sfu',
    });
  });

  it('sends each meeting to a live node, keeps it there, and skips a node that stopped heartbeating', async () => {
    const suffix = randomBytes(3).toString('hex');
    const a = await startNode(`a-${suffix}`, { heartbeatMs: 200, ttlMs: 1_000 });
    // This node heartbeats once and then too rarely: its record expires after 600 ms.
    const b = await startNode(`b-${suffix}`, { heartbeatMs: 60_000, ttlMs: 600 });

    const { sessionId } = await createMeeting(q.http, orgId, { token: host.token });
    const ticket = await q.http.mutation('meetings.join', { orgId, sessionId }, { token: host.token });
    expect([a.url, b.url]).toContain(ticket.signalingUrl);
    // The node it names admits the participant and reports the join to the gateway.
    const client = await SignalingClient.connect(ticket.signalingUrl);
    clients.push(client);
    await expect(client.request('join', { token: ticket.token })).resolves.toMatchObject({
      peerId: host.userId,
      mode: 'p2p',
    });
    const hosting = ticket.signalingUrl === a.url ? a : b;
    expect(hosting.sfu.server.getState().map((m) => m.sessionId)).toContain(sessionId);
    // Asked again, the gateway names the same node.
    expect((await q.http.mutation('meetings.join', { orgId, sessionId }, { token: owner.token })).signalingUrl).toBe(
      ticket.signalingUrl,
    );

    await new Promise((r) => setTimeout(r, 900));
    // b's heartbeat expired: new meetings all go to a.
    for (let i = 0; i < 4; i++) {
      const next = await createMeeting(q.http, orgId, { token: host.token });
      expect(
        (await q.http.mutation('meetings.join', { orgId, sessionId: next.sessionId }, { token: host.token }))
          .signalingUrl,
      ).toBe(a.url);
    }
    const live = await new RedisPlacement({ redis, namespace: `${q.env.REDIS_NAMESPACE}:placement` }).liveNodes();
    expect(live.map((n) => n.nodeId)).toEqual([`a-${suffix}`]);
  });
});
