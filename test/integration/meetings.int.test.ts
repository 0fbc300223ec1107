/**
 * Meetings through the gateway over HTTP, with joins and leaves reported as the SFU reports
 * them: scheduling, join tokens, the plan's participant cap, locking, removal, host controls,
 * the empty-meeting sweep, the read models (live participants, past sessions with durations),
 * and the events on the session stream.
 */
import { randomUUID } from 'node:crypto';
import { streamIds } from '@quorum/domain';
import { verifyJoinToken } from '@quorum/signaling/tokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../support/http-client';
import { createMeeting, reportJoined, reportLeft, serviceToken } from '../support/meetings';
import { addMember, createOrg, signUp, type TestUser } from '../support/people';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;
let owner: TestUser;
let orgId: string;
let host: TestUser;
let member: TestUser;

const as = (u: TestUser) => ({ token: u.token });
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function sessionEvents(sessionId: string) {
  return (await q.app.store.readStream(streamIds.session(sessionId))).map((e) => ({ type: e.type, data: e.data }));
}

beforeAll(async () => {
  q = await startTestQuorum('meetings', { MEETING_EMPTY_GRACE_SECONDS: '0' });
  owner = await signUp(q.http, 'owner');
  ({ orgId } = await createOrg(q.http, owner, 'pro'));
  await q.http.mutation('seats.purchase', { orgId, quantity: 5 }, as(owner));
  host = await addMember(q.http, orgId, owner, 'host');
  member = await addMember(q.http, orgId, owner, 'member');
  await q.http.mutation('seats.assign', { orgId, userId: host.userId }, as(owner));
});

afterAll(async () => {
  await q?.stop();
});

describe('meetings.create / get / list', () => {
  it('schedules an instant meeting hosted by the caller, readable right after', async () => {
    const { sessionId, position } = await createMeeting(q.http, orgId, as(host), { title: 'Design review' });
    const meeting = await q.http.query('meetings.get', { orgId, sessionId, minPosition: position }, as(member));
    expect(meeting).toMatchObject({
      sessionId,
      orgId,
      title: 'Design review',
      hostUserId: host.userId,
      status: 'scheduled',
      locked: false,
      participants: [],
    });
    const list = await q.http.query('meetings.list', { orgId, status: 'scheduled' }, as(member));
    expect(list.meetings.map((m: { sessionId: string }) => m.sessionId)).toContain(sessionId);
  });

  it('schedules one for later', async () => {
    const scheduledFor = new Date(Date.now() + 86_400_000).toISOString();
    const { sessionId, position } = await q.http.mutation(
      'meetings.create',
      { orgId, title: 'Tomorrow', scheduledFor },
      as(host),
    );
    expect(await q.http.query('meetings.get', { orgId, sessionId, minPosition: position }, as(host))).toMatchObject({
      scheduledFor,
      status: 'scheduled',
    });
  });

  it('refuses a host without a seat, bad input, and a meeting of another organization', async () => {
    const before = await settledHead(q);
    expect(await failure(createMeeting(q.http, orgId, as(owner)))).toMatchObject({
      status: 412,
      reason: 'session.host_without_seat',
    });
    expect(await failure(q.http.mutation('meetings.create', { orgId, title: '' }, as(host)))).toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
    });
    expect(
      await failure(q.http.mutation('meetings.create', { orgId, title: 'x', scheduledFor: 'tomorrow' }, as(host))),
    ).toMatchObject({ status: 400 });
    expect(await failure(createMeeting(q.http, orgId, as(member)))).toMatchObject({
      status: 403,
      reason: 'auth.forbidden',
    });
    expect(await settledHead(q)).toBe(before);
    const other = await createOrg(q.http, owner, 'pro');
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    expect(await failure(q.http.mutation('meetings.join', { orgId: other.orgId, sessionId }, as(owner)))).toMatchObject(
      { status: 404, reason: 'meetings.not_found' },
    );
  });
});

describe('meetings.join', () => {
  it('answers a join token (at most five minutes), the signaling URL, the mode and ICE servers', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const joined = await q.http.mutation('meetings.join', { orgId, sessionId, displayName: 'Mo' }, as(member));
    expect(joined).toMatchObject({
      participantId: member.userId,
      mode: 'p2p',
      iceServers: [],
      signalingUrl: `ws://127.0.0.1:${q.app.port}/sfu`,
    });
    const verified = verifyJoinToken(joined.token, q.env.JOIN_TOKEN_SECRET!, nowSeconds());
    expect(verified).toMatchObject({
      ok: true,
      claims: { sub: member.userId, org: orgId, sid: sessionId, name: 'Mo', host: false, mod: false },
    });
    if (!verified.ok) throw new Error('unreachable');
    expect(verified.claims.exp - verified.claims.iat).toBeLessThanOrEqual(300);
    // The host's token may moderate; so may an owner's, who is not the host.
    const hostToken = verifyJoinToken(
      (await q.http.mutation('meetings.join', { orgId, sessionId }, as(host))).token,
      q.env.JOIN_TOKEN_SECRET!,
      nowSeconds(),
    );
    expect(hostToken).toMatchObject({ ok: true, claims: { host: true, mod: true, name: host.email } });
    const ownerToken = verifyJoinToken(
      (await q.http.mutation('meetings.join', { orgId, sessionId }, as(owner))).token,
      q.env.JOIN_TOKEN_SECRET!,
      nowSeconds(),
    );
    expect(ownerToken).toMatchObject({ ok: true, claims: { host: false, mod: true } });
  });

  it('says sfu once two others are in the meeting', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    await reportJoined(q, orgId, sessionId, host.userId, 'Host');
    await reportJoined(q, orgId, sessionId, owner.userId, 'Owner');
    expect(await q.http.mutation('meetings.join', { orgId, sessionId }, as(member))).toMatchObject({ mode: 'sfu' });
  });
});

describe('entitlements', () => {
  it("a free plan's participant cap (4) refuses the fifth, at join and at the SFU's report", async () => {
    const freeOwner = await signUp(q.http, 'free-owner');
    const free = await createOrg(q.http, freeOwner, 'free');
    await q.http.mutation('seats.purchase', { orgId: free.orgId, quantity: 1 }, as(freeOwner));
    await q.http.mutation('seats.assign', { orgId: free.orgId, userId: freeOwner.userId }, as(freeOwner));
    const fifth = await addMember(q.http, free.orgId, freeOwner, 'member', 'fifth');
    const { sessionId } = await createMeeting(q.http, free.orgId, as(freeOwner));
    // Four members in: the owner and three more (only members are admitted).
    const four: TestUser[] = [freeOwner];
    for (let i = 1; i < 4; i++) four.push(await addMember(q.http, free.orgId, freeOwner, 'member', `p${i}`));
    for (const [i, p] of four.entries()) await reportJoined(q, free.orgId, sessionId, p.userId, `P${i}`);
    const refused = await failure(q.http.mutation('meetings.join', { orgId: free.orgId, sessionId }, as(fifth)));
    expect(refused).toMatchObject({ status: 412, code: 'PRECONDITION_FAILED', reason: 'session.full' });
    expect(refused.message).toBe('The meeting is full: the free plan allows 4 participants at once.');
    expect(await failure(reportJoined(q, free.orgId, sessionId, fifth.userId, 'Fifth'))).toMatchObject({
      reason: 'session.full',
    });
  });

  it('a locked meeting admits nobody new; unlocking admits again', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    await reportJoined(q, orgId, sessionId, host.userId, 'Host');
    await q.http.mutation('meetings.lock', { orgId, sessionId }, as(host));
    const refused = await failure(q.http.mutation('meetings.join', { orgId, sessionId }, as(member)));
    expect(refused).toMatchObject({ status: 412, reason: 'session.locked' });
    expect(await failure(reportJoined(q, orgId, sessionId, member.userId))).toMatchObject({ reason: 'session.locked' });
    await q.http.mutation('meetings.unlock', { orgId, sessionId }, as(host));
    await expect(q.http.mutation('meetings.join', { orgId, sessionId }, as(member))).resolves.toMatchObject({
      mode: 'p2p',
    });
  });

  it('a suspended organization cannot meet', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const { OrganizationSuspendedDataSchema } = await import('@quorum/domain');
    const org = await q.app.store.readStream(streamIds.organization(orgId));
    await q.app.store.appendToStream(
      streamIds.organization(orgId),
      [
        {
          id: randomUUID(),
          type: 'organization.suspended',
          version: 1,
          data: OrganizationSuspendedDataSchema.parse({ reason: 'test' }),
          metadata: { orgId, actor: { kind: 'system', id: 'test' }, correlationId: randomUUID(), causationId: null },
        },
      ],
      { expectedRevision: org.at(-1)!.revision },
    );
    try {
      const refused = await failure(q.http.mutation('meetings.join', { orgId, sessionId }, as(member)));
      expect(refused).toMatchObject({ status: 412, reason: 'session.organization_inactive' });
      expect(refused.message).toContain('suspended');
      expect(await failure(createMeeting(q.http, orgId, as(host)))).toMatchObject({
        reason: 'session.organization_inactive',
      });
    } finally {
      const latest = await q.app.store.readStream(streamIds.organization(orgId));
      await q.app.store.appendToStream(
        streamIds.organization(orgId),
        [
          {
            id: randomUUID(),
            type: 'organization.reactivated',
            version: 1,
            data: {},
            metadata: { orgId, actor: { kind: 'system', id: 'test' }, correlationId: randomUUID(), causationId: null },
          },
        ],
        { expectedRevision: latest.at(-1)!.revision },
      );
    }
  });

  it('the SFU procedures refuse callers without a valid service token', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    const input = { orgId, sessionId, participantId: member.userId, displayName: 'M' };
    expect(await failure(q.http.mutation('sfu.participantJoined', input, as(owner)))).toMatchObject({ status: 401 });
    const { signServiceToken } = await import('@quorum/signaling/tokens');
    const forged = signServiceToken('sfu:evil', 'f'.repeat(64), nowSeconds());
    expect(await failure(q.http.mutation('sfu.participantJoined', input, { serviceToken: forged }))).toMatchObject({
      status: 401,
    });
    const expired = signServiceToken('sfu:test', q.env.SFU_SERVICE_SECRET!, nowSeconds() - 120, 60);
    expect(await failure(q.http.mutation('sfu.participantJoined', input, { serviceToken: expired }))).toMatchObject({
      status: 401,
    });
    await expect(
      q.http.mutation('sfu.participantJoined', input, { serviceToken: serviceToken(q) }),
    ).resolves.toMatchObject({ alreadyJoined: false });
  });
});

describe('host controls and the session stream', () => {
  it('mute, remove (no rejoin), end for all: events on the stream, read models follow', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host), { title: 'All hands' });
    await reportJoined(q, orgId, sessionId, host.userId, 'Host');
    const joined = await reportJoined(q, orgId, sessionId, member.userId, 'Member');
    const live = await q.http.query('meetings.get', { orgId, sessionId, minPosition: joined.position }, as(owner));
    expect(live).toMatchObject({ status: 'live', participantsNow: 2 });
    expect(live.participants.map((p: { participantId: string }) => p.participantId).sort()).toEqual(
      [host.userId, member.userId].sort(),
    );

    // A member who is not the host cannot use host controls.
    expect(
      await failure(
        q.http.mutation('meetings.mute', { orgId, sessionId, participantId: host.userId, kind: 'audio' }, as(member)),
      ),
    ).toMatchObject({ status: 403 });
    await q.http.mutation('meetings.mute', { orgId, sessionId, participantId: member.userId, kind: 'audio' }, as(host));
    await q.http.mutation('meetings.remove', { orgId, sessionId, participantId: member.userId }, as(host));
    expect(await failure(q.http.mutation('meetings.join', { orgId, sessionId }, as(member)))).toMatchObject({
      status: 403,
      reason: 'session.participant_removed',
    });
    expect(await failure(reportJoined(q, orgId, sessionId, member.userId))).toMatchObject({
      reason: 'session.participant_removed',
    });
    // The SFU's report of the removed participant's disconnect records nothing more.
    await expect(reportLeft(q, orgId, sessionId, member.userId, 'disconnected')).resolves.toMatchObject({
      recorded: false,
    });
    const ended = await q.http.mutation('meetings.end', { orgId, sessionId }, as(host));

    expect((await sessionEvents(sessionId)).map((e) => e.type)).toEqual([
      'session.scheduled',
      'session.started',
      'participant.joined',
      'participant.joined',
      'participant.muted',
      'participant.removed',
      'session.ended',
    ]);
    const past = await q.http.query(
      'meetings.list',
      { orgId, status: 'ended', minPosition: ended.position },
      as(owner),
    );
    const row = past.meetings.find((m: { sessionId: string }) => m.sessionId === sessionId);
    expect(row).toMatchObject({
      status: 'ended',
      endReason: 'ended_by_host',
      participantsNow: 0,
      peakParticipants: 2,
      distinctParticipants: 2,
    });
    expect(row.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(await failure(q.http.mutation('meetings.join', { orgId, sessionId }, as(host)))).toMatchObject({
      reason: 'session.ended',
    });
  });

  it('a meeting left empty is ended by the sweep after the grace period', async () => {
    const { sessionId } = await createMeeting(q.http, orgId, as(host));
    await reportJoined(q, orgId, sessionId, host.userId, 'Host');
    const left = await reportLeft(q, orgId, sessionId, host.userId);
    await q.http.query('meetings.get', { orgId, sessionId, minPosition: left.position }, as(host));
    expect(await q.app.gateway.sweeper!.sweep()).toBeGreaterThanOrEqual(1);
    const events = await sessionEvents(sessionId);
    expect(events.at(-1)).toMatchObject({ type: 'session.ended', data: { reason: 'empty', by: null } });
  });
});
