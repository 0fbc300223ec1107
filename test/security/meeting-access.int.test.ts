/**
 * A meeting seat ends with the access behind it (issue: security probe, finding 3). Before, a
 * member removed after getting a join token still joined with it, one removed while in a meeting
 * stayed connected and listed, a key's join token worked after the key was revoked, and a join
 * token worked any number of times for its five minutes. Now each token works once (its id is
 * remembered until it expires), the gateway checks at the SFU's join report that its holder is
 * still a member (or a key still allowed to join), and a removal or revocation disconnects them
 * from the organization's meetings. Real Postgres, NATS and mediasoup (the embedded SFU).
 */
import { streamIds } from '@quorum/domain';
import { SignalingClient } from '@quorum/sfu/signaling/testing';
import { signServiceToken } from '@quorum/signaling/tokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually';
import { createMeeting, serviceToken, signalingRefusal } from '../support/meetings';
import { addMember, createOrg, signUp, type TestUser } from '../support/people';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;
let owner: TestUser;
let orgId: string;
let host: TestUser;
const clients: SignalingClient[] = [];

const as = (u: TestUser) => ({ token: u.token });

async function ticket(orgIdOf: string, sessionId: string, creds: { token?: string; apiKey?: string }) {
  return q.http.mutation('meetings.join', { orgId: orgIdOf, sessionId }, creds) as Promise<{
    token: string;
    signalingUrl: string;
  }>;
}

async function connect(t: { signalingUrl: string }) {
  const client = await SignalingClient.connect(t.signalingUrl);
  clients.push(client);
  return client;
}

async function participants(sessionId: string) {
  return (await q.http.query('meetings.get', { orgId, sessionId }, as(owner))).participants.map(
    (p: { participantId: string }) => p.participantId,
  );
}

async function sessionEvents(sessionId: string) {
  return (await q.app.store.readStream(streamIds.session(sessionId))).map((e) => ({
    type: e.type,
    data: e.data as Record<string, unknown>,
  }));
}

beforeAll(async () => {
  q = await startTestQuorum('meetaccess');
  owner = await signUp(q.http, 'owner');
  ({ orgId } = await createOrg(q.http, owner, 'pro'));
  await q.http.mutation('seats.purchase', { orgId, quantity: 5 }, as(owner));
  host = await addMember(q.http, orgId, owner, 'host');
  await q.http.mutation('seats.assign', { orgId, userId: host.userId }, as(owner));
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await q?.stop();
});

describe('a join token', () => {
  it('works once: a second join with it is refused, on a new socket too', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const member = await addMember(q.http, orgId, owner, 'member', 'once');
    const t = await ticket(orgId, sessionId, as(member));
    const first = await connect(t);
    await first.request('join', { token: t.token });
    const second = await connect(t);
    expect(await signalingRefusal(second.request('join', { token: t.token }))).toMatchObject({
      code: 'UNAUTHORIZED',
      reason: 'token.used',
    });
    // A fresh ticket works (the browser asks for one on every rejoin).
    const fresh = await ticket(orgId, sessionId, as(member));
    await (await connect(fresh)).request('join', { token: fresh.token });
  });

  it('of a member removed after getting it is refused, and nothing is recorded', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const member = await addMember(q.http, orgId, owner, 'member', 'removed-early');
    const t = await ticket(orgId, sessionId, as(member));
    await q.http.mutation('members.remove', { orgId, userId: member.userId }, as(owner));
    const client = await connect(t);
    expect(await signalingRefusal(client.request('join', { token: t.token }))).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'meetings.not_a_member',
    });
    expect((await sessionEvents(sessionId)).filter((e) => e.type === 'participant.joined')).toEqual([]);
  });

  it('of an API key revoked after getting it is refused', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const made = await q.http.mutation('apiKeys.create', { orgId, name: 'bot', role: 'member' }, as(owner));
    const t = await ticket(orgId, sessionId, { apiKey: made.secret });
    await q.http.mutation('apiKeys.revoke', { orgId, keyId: made.key.id }, as(owner));
    const client = await connect(t);
    expect(await signalingRefusal(client.request('join', { token: t.token }))).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'meetings.not_a_member',
    });
  });
});

describe('losing access while in a meeting', () => {
  it('a member removed from the organization is disconnected and recorded as gone', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const member = await addMember(q.http, orgId, owner, 'member', 'removed-late');
    const h = await ticket(orgId, sessionId, as(host));
    await (await connect(h)).request('join', { token: h.token });
    const t = await ticket(orgId, sessionId, as(member));
    const client = await connect(t);
    await client.request('join', { token: t.token });
    await eventually(async () =>
      expect((await participants(sessionId)).sort()).toEqual([host.userId, member.userId].sort()),
    );

    await q.http.mutation('members.remove', { orgId, userId: member.userId }, as(owner));
    await eventually(() => expect(client.closed).toMatchObject({ code: 4404 }), 10_000);
    await eventually(async () => expect(await participants(sessionId)).toEqual([host.userId]), 10_000);
    const left = (await sessionEvents(sessionId)).filter((e) => e.type === 'participant.left');
    expect(left.map((e) => [e.data.participantId, e.data.reason])).toEqual([[member.userId, 'disconnected']]);
  });

  it('an API key revoked while in a meeting is disconnected', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const made = await q.http.mutation('apiKeys.create', { orgId, name: 'recorder', role: 'member' }, as(owner));
    const t = await ticket(orgId, sessionId, { apiKey: made.secret });
    const client = await connect(t);
    await client.request('join', { token: t.token });
    await q.http.mutation('apiKeys.revoke', { orgId, keyId: made.key.id }, as(owner));
    await eventually(() => expect(client.closed).toMatchObject({ code: 4404 }), 10_000);
    await eventually(async () => expect(await participants(sessionId)).toEqual([]), 10_000);
  });
});

describe('/sfu/state', () => {
  it('names meetings and participants only to a caller with a service token, even from this host', async () => {
    const open = await fetch(`${q.baseUrl}/sfu/state`);
    expect(open.status).toBe(401);
    expect(JSON.stringify(await open.json())).not.toContain(host.userId);
    const forged = await fetch(`${q.baseUrl}/sfu/state`, {
      headers: {
        'x-quorum-service-token': signServiceToken('operator', 'x'.repeat(48), Math.floor(Date.now() / 1000)),
      },
    });
    expect(forged.status).toBe(401);
    const signed = await fetch(`${q.baseUrl}/sfu/state`, {
      headers: { 'x-quorum-service-token': serviceToken(q, 'operator') },
    });
    expect(signed.status).toBe(200);
    expect(await signed.json()).toMatchObject({ meetings: expect.any(Array) });
  });
});
