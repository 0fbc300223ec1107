/**
 * The embedded SFU's signaling against a whole Quorum (real Postgres, NATS, Redis and a real
 * mediasoup worker): join tokens from `meetings.join`, joins reported to the gateway and
 * decided on the session stream, peer-to-peer relay with no SFU transport, the switch to the
 * SFU when a third participant joins, refusals, host controls arriving over the bus, and bad
 * frames.
 */
import { signJoinToken } from '@quorum/signaling/tokens';
import { SignalingClient } from '@quorum/sfu/signaling/testing';
import { streamIds } from '@quorum/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually';
import { createMeeting, signalingRefusal } from '../support/meetings';
import { addMember, createOrg, signUp, type TestUser } from '../support/people';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;
let owner: TestUser;
let orgId: string;
let host: TestUser;
let alice: TestUser;
let bob: TestUser;
const clients: SignalingClient[] = [];

const as = (u: TestUser) => ({ token: u.token });

/** `meetings.join` then a signaling `join`, as a browser does. */
async function enter(user: TestUser, sessionId: string) {
  const ticket = await q.http.mutation('meetings.join', { orgId, sessionId }, as(user));
  const client = await SignalingClient.connect(ticket.signalingUrl);
  clients.push(client);
  const joined = await client.request('join', { token: ticket.token });
  return { client, joined, ticket };
}

async function eventTypes(sessionId: string) {
  return (await q.app.store.readStream(streamIds.session(sessionId))).map((e) => e.type);
}

beforeAll(async () => {
  q = await startTestQuorum('signaling', { SFU_RECONNECT_GRACE_SECONDS: '0.3' });
  owner = await signUp(q.http, 'owner');
  ({ orgId } = await createOrg(q.http, owner, 'pro'));
  await q.http.mutation('seats.purchase', { orgId, quantity: 5 }, as(owner));
  host = await addMember(q.http, orgId, owner, 'host');
  alice = await addMember(q.http, orgId, owner, 'member', 'alice');
  bob = await addMember(q.http, orgId, owner, 'member', 'bob');
  await q.http.mutation('seats.assign', { orgId, userId: host.userId }, as(owner));
});

afterAll(async () => {
  for (const c of clients) c.close();
  await q?.stop();
});

describe('peer-to-peer, then the SFU', () => {
  it('two participants relay offer, answer and candidates with no SFU transport; a third moves everyone to the SFU', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const h = await enter(host, sessionId);
    expect(h.joined).toMatchObject({ peerId: host.userId, mode: 'p2p', peers: [], isHost: true, canModerate: true });
    const a = await enter(alice, sessionId);
    expect(a.joined).toMatchObject({
      mode: 'p2p',
      peers: [{ peerId: host.userId, isHost: true }],
      isHost: false,
      canModerate: false,
    });
    await h.client.next('peerJoined', (p) => p.peerId === alice.userId);

    await a.client.request('p2pSignal', { to: host.userId, signal: { kind: 'offer', sdp: 'v=0 offer' } });
    expect(await h.client.next('p2pSignal')).toEqual({
      from: alice.userId,
      signal: { kind: 'offer', sdp: 'v=0 offer' },
    });
    await h.client.request('p2pSignal', { to: alice.userId, signal: { kind: 'answer', sdp: 'v=0 answer' } });
    await a.client.request('p2pSignal', {
      to: host.userId,
      signal: {
        kind: 'candidate',
        candidate: {
          candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
          sdpMid: '0',
          sdpMLineIndex: 0,
        },
      },
    });
    expect(await a.client.next('p2pSignal')).toMatchObject({ from: host.userId, signal: { kind: 'answer' } });
    expect(await h.client.next('p2pSignal', (d) => d.signal.kind === 'candidate')).toMatchObject({
      from: alice.userId,
    });

    // No media room and no transport exists for a 1:1 call, as the SFU's own state says.
    expect(q.app.sfu!.server.getState().find((m) => m.sessionId === sessionId)).toMatchObject({
      mode: 'p2p',
      mediaRoomId: null,
    });
    expect(q.app.sfu!.pool.getState().rooms.find((r) => r.roomId === sessionId)).toBeUndefined();
    expect(await signalingRefusal(a.client.request('createWebRtcTransport', { direction: 'send' }))).toMatchObject({
      code: 'PRECONDITION_FAILED',
      reason: 'signaling.not_sfu',
    });

    const b = await enter(bob, sessionId);
    expect(b.joined).toMatchObject({ mode: 'sfu' });
    expect(b.joined.peers.map((p) => p.peerId).sort()).toEqual([host.userId, alice.userId].sort());
    expect(await h.client.next('modeChanged')).toEqual({ mode: 'sfu' });
    expect(await a.client.next('modeChanged')).toEqual({ mode: 'sfu' });
    expect(
      await signalingRefusal(
        a.client.request('p2pSignal', { to: host.userId, signal: { kind: 'offer', sdp: 'late' } }),
      ),
    ).toMatchObject({ reason: 'signaling.not_p2p' });

    // Through the SFU now: capabilities and transports come from mediasoup.
    const caps = await b.client.request('getRouterRtpCapabilities', {});
    expect((caps.rtpCapabilities as { codecs: Array<{ mimeType: string }> }).codecs.map((c) => c.mimeType)).toEqual(
      expect.arrayContaining(['audio/opus', 'video/VP8']),
    );
    const transport = await b.client.request('createWebRtcTransport', { direction: 'recv' });
    expect(transport).toMatchObject({
      transportId: expect.any(String),
      iceCandidates: expect.arrayContaining([expect.objectContaining({ ip: '127.0.0.1' })]),
    });
    const room = q.app.sfu!.pool.getState().rooms.find((r) => r.roomId === sessionId);
    expect(room?.peers.find((p) => p.peerId === bob.userId)?.transports).toHaveLength(1);

    expect(await eventTypes(sessionId)).toEqual([
      'session.scheduled',
      'session.started',
      'participant.joined',
      'participant.joined',
      'participant.joined',
    ]);

    // Leaving is reported; the others are told.
    await b.client.request('leave', {});
    expect(await h.client.next('peerLeft', (p) => p.peerId === bob.userId)).toEqual({ peerId: bob.userId });
    await eventually(async () => expect((await eventTypes(sessionId)).at(-1)).toBe('participant.left'));
    // A dropped socket is reported after the reconnect grace period.
    a.client.close();
    await eventually(async () =>
      expect((await eventTypes(sessionId)).filter((t) => t === 'participant.left')).toHaveLength(2),
    );
    const stream = await q.app.store.readStream(streamIds.session(sessionId));
    expect(
      stream.filter((e) => e.type === 'participant.left').map((e) => (e.data as { reason: string }).reason),
    ).toEqual(['left', 'disconnected']);
  });

  it('a rejoin within the grace period records nothing new', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const first = await enter(host, sessionId);
    const again = await enter(host, sessionId);
    expect(again.joined.peerId).toBe(host.userId);
    expect((await first.client.waitClosed()).code).toBe(4409);
    expect(await eventTypes(sessionId)).toEqual(['session.scheduled', 'session.started', 'participant.joined']);
  });
});

describe('refusals', () => {
  it('a forged or expired join token is refused and the socket closed; nothing is recorded', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const ticket = await q.http.mutation('meetings.join', { orgId, sessionId }, as(alice));
    const claims = { sub: alice.userId, org: orgId, sid: sessionId, name: 'Alice', host: false, mod: true };
    const now = Math.floor(Date.now() / 1000);
    const forged = signJoinToken(claims, 'not-the-deployment-secret-'.padEnd(40, 'x'), {
      ttlSeconds: 60,
      nowSeconds: now,
    }).token;
    const expired = signJoinToken(claims, q.env.JOIN_TOKEN_SECRET!, { ttlSeconds: 60, nowSeconds: now - 120 }).token;
    for (const [token, reason] of [
      [forged, 'token.bad_signature'],
      [expired, 'token.expired'],
      ['garbage', 'token.malformed'],
    ] as const) {
      const client = await SignalingClient.connect(ticket.signalingUrl);
      clients.push(client);
      expect(await signalingRefusal(client.request('join', { token }))).toMatchObject({ code: 'UNAUTHORIZED', reason });
      expect((await client.waitClosed()).code).toBe(4401);
    }
    const unjoined = await SignalingClient.connect(ticket.signalingUrl);
    clients.push(unjoined);
    expect(await signalingRefusal(unjoined.request('getRouterRtpCapabilities', {}))).toMatchObject({
      code: 'UNAUTHORIZED',
      reason: 'signaling.not_joined',
    });
    expect(await eventTypes(sessionId)).toEqual(['session.scheduled']);
  });

  it('a token issued before the meeting was locked is refused by the stream at join', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    await enter(host, sessionId);
    const ticket = await q.http.mutation('meetings.join', { orgId, sessionId }, as(alice));
    await q.http.mutation('meetings.lock', { orgId, sessionId }, as(host));
    const client = await SignalingClient.connect(ticket.signalingUrl);
    clients.push(client);
    const refused = await signalingRefusal(client.request('join', { token: ticket.token }));
    expect(refused).toMatchObject({ code: 'PRECONDITION_FAILED', reason: 'session.locked' });
    expect(refused.message).toMatch(/locked/);
    expect((await client.waitClosed()).code).toBe(4403);
  });

  it('bad frames get BAD_REQUEST naming the field, or close the socket when unreadable', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const h = await enter(host, sessionId);
    expect(
      await signalingRefusal(h.client.request('setPreferredLayers', { consumerId: 'c', spatialLayer: 9 } as never)),
    ).toMatchObject({ code: 'BAD_REQUEST' });
    expect(
      await signalingRefusal(h.client.request('p2pSignal', { to: 'nobody', signal: { kind: 'offer', sdp: 'x' } })),
    ).toMatchObject({ code: 'NOT_FOUND' });
    h.client.sendRaw('{not json');
    expect((await h.client.waitClosed()).code).toBe(4400);
  });
});

describe('host controls over the bus', () => {
  it('mute reaches everyone, remove closes the target, end closes all; the stream holds the events', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const h = await enter(host, sessionId);
    const a = await enter(alice, sessionId);
    const b = await enter(bob, sessionId);

    await q.http.mutation('meetings.mute', { orgId, sessionId, participantId: alice.userId, kind: 'audio' }, as(host));
    expect(await a.client.next('peerMuted')).toEqual({ peerId: alice.userId, kind: 'audio', byHost: true });
    expect(await b.client.next('peerMuted')).toEqual({ peerId: alice.userId, kind: 'audio', byHost: true });

    await q.http.mutation('meetings.lock', { orgId, sessionId }, as(host));
    expect(await b.client.next('meetingLocked')).toEqual({ locked: true });

    await q.http.mutation('meetings.remove', { orgId, sessionId, participantId: bob.userId }, as(host));
    await b.client.next('removed');
    expect((await b.client.waitClosed()).code).toBe(4404);
    expect(await a.client.next('peerLeft', (p) => p.peerId === bob.userId)).toEqual({ peerId: bob.userId });

    await q.http.mutation('meetings.end', { orgId, sessionId }, as(host));
    expect(await a.client.next('meetingEnded')).toEqual({ reason: 'ended_by_host' });
    expect((await a.client.waitClosed()).code).toBe(4410);
    expect((await h.client.waitClosed()).code).toBe(4410);
    expect(q.app.sfu!.server.getState().find((m) => m.sessionId === sessionId)).toBeUndefined();

    expect(await eventTypes(sessionId)).toEqual([
      'session.scheduled',
      'session.started',
      'participant.joined',
      'participant.joined',
      'participant.joined',
      'participant.muted',
      'session.locked',
      'participant.removed',
      'session.ended',
    ]);
  });
});

describe('a media worker that dies', () => {
  it('tells its participants to reconnect; they rejoin the media on a replacement worker and nothing is recorded as left', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const people = [await enter(host, sessionId), await enter(alice, sessionId), await enter(bob, sessionId)];
    for (const p of people) await p.client.request('createWebRtcTransport', { direction: 'recv' });
    const pool = q.app.sfu!.pool;
    const before = pool.worker(0)!.pid;
    process.kill(before, 'SIGKILL');
    for (const p of people) expect(await p.client.next('reconnect')).toEqual({ reason: 'media worker failed' });
    await eventually(() => expect(pool.worker(0)?.pid).not.toBe(before), 10_000);
    // Back in the media over the same sockets, on the new worker.
    for (const p of people) {
      await eventually(async () => {
        await p.client.request('getRouterRtpCapabilities', {});
      }, 10_000);
      await expect(p.client.request('createWebRtcTransport', { direction: 'recv' })).resolves.toMatchObject({
        transportId: expect.any(String),
      });
    }
    const room = pool.getState().rooms.find((r) => r.roomId === sessionId);
    expect(room?.peers).toHaveLength(3);
    expect((await eventTypes(sessionId)).filter((t) => t === 'participant.left')).toEqual([]);
  });
});
