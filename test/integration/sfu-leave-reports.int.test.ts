/**
 * Leaves the gateway could not take when they happened: an SFU node reports joins and leaves
 * through a TCP proxy that the test can take down (connections reset, as when the gateway is
 * restarting) or make lose the gateway's answers. The leave is recorded once the gateway is
 * back, once, at the time it happened; a participant back before that is never recorded as
 * gone. Real Postgres, NATS, Redis, gateway and mediasoup worker.
 */
import { randomBytes } from 'node:crypto';
import { streamIds } from '@quorum/domain';
import { SignalingClient } from '@quorum/sfu/signaling/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually';
import { createMeeting } from '../support/meetings';
import { meetingCast, type TestUser } from '../support/people';
import { startTestSfuNode, type TestSfuNode } from '../support/sfu-node';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const FIRST_RETRY_MS = 1_500;

let q: TestQuorum;
let host: TestUser;
let alice: TestUser;
let orgId: string;
let redis: Redis;
let proxy: TcpProxy;
let node: TestSfuNode;
const clients: SignalingClient[] = [];

async function enter(user: TestUser, sessionId: string) {
  const ticket = await q.http.mutation('meetings.join', { orgId, sessionId }, { token: user.token });
  const client = await SignalingClient.connect(ticket.signalingUrl);
  clients.push(client);
  await client.request('join', { token: ticket.token });
  return client;
}

async function leftEvents(sessionId: string) {
  return (await q.app.store.readStream(streamIds.session(sessionId)))
    .filter((e) => e.type === 'participant.left')
    .map((e) => e.data as { participantId: string; reason: string; at: string });
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  q = await startTestQuorum('leaves', { SFU: 'off', REDIS_URL });
  redis = new Redis(REDIS_URL);
  const gateway = new URL(q.baseUrl);
  proxy = new TcpProxy({ host: gateway.hostname, port: Number(gateway.port) });
  const proxyUrl = `http://127.0.0.1:${await proxy.listen()}`;

  node = await startTestSfuNode(q, {
    nodeId: `leaves-${randomBytes(3).toString('hex')}`,
    redis,
    heartbeatMs: 200,
    ttlMs: 2_000,
    gatewayUrl: proxyUrl,
    logLevel: 'silent',
    more: { reconnectGraceMs: 200, leaveRetryFirstDelayMs: FIRST_RETRY_MS },
  });

  ({ orgId, host, alice } = await meetingCast(q.http));
});

afterAll(async () => {
  for (const c of clients) c.close();
  if (proxy) proxy.mode = 'up';
  await node?.close();
  await proxy?.close();
  await redis?.quit();
  await q?.stop();
});

describe('leaves the gateway could not take at once', () => {
  it('are recorded once it is back, once, at the time they happened', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, { token: host.token });
    await enter(host, sessionId);
    const a = await enter(alice, sessionId);

    proxy.mode = 'down';
    const leftAt = Date.now();
    await a.request('leave', {});
    await until(() => proxy.refused >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(await leftEvents(sessionId)).toEqual([]);

    // The gateway takes the next attempt but its answer is lost: the attempt after that must not record it again.
    proxy.mode = 'loseAnswers';
    await until(() => proxy.refused >= 2, FIRST_RETRY_MS * 3);
    proxy.mode = 'up';
    const backAt = Date.now();
    await eventually(async () => expect(node.sfu.server.pendingLeaves).toBe(0), 15_000);

    const left = await leftEvents(sessionId);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ participantId: alice.userId, reason: 'left' });
    // Stamped when it happened, not when it landed (no attempt reached the gateway before the first retry, 1.5 s on).
    const at = Date.parse(left[0]!.at);
    expect(at).toBeGreaterThanOrEqual(leftAt - 5);
    expect(at).toBeLessThan(leftAt + FIRST_RETRY_MS / 2);
    expect(at).toBeLessThan(backAt);
  });

  it('are not recorded for someone who came back first', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, { token: host.token });
    await enter(host, sessionId);
    const a = await enter(alice, sessionId);

    proxy.mode = 'down';
    const refusedBefore = proxy.refused;
    // The connection drops; after the grace period the SFU reports the leave and cannot.
    a.close();
    await until(() => proxy.refused > refusedBefore);
    proxy.mode = 'up';
    await enter(alice, sessionId);
    // Past the retry that would have come: nothing recorded, and alice is in the meeting.
    await new Promise((r) => setTimeout(r, FIRST_RETRY_MS + 500));
    expect(node.sfu.server.pendingLeaves).toBe(0);
    expect(await leftEvents(sessionId)).toEqual([]);
    const events = (await q.app.store.readStream(streamIds.session(sessionId))).map((e) => e.type);
    expect(events.filter((t) => t === 'participant.joined')).toHaveLength(2);
  });
});
