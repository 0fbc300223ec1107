/**
 * The free plan's included meeting minutes at join: once a free organization's usage stream
 * of the current UTC month holds its 600 minutes of `meeting_minutes`, `meetings.join` and the
 * SFU's join report refuse anyone new (PRECONDITION_FAILED `session.minutes_exhausted`), the
 * host too; someone already in the meeting goes on. A paid organization with the same usage is
 * admitted (it is billed overage instead). Usage is appended here as the metering consumer
 * would append it.
 */
import { randomUUID } from 'node:crypto';
import { USAGE_EVENT_DATA_SCHEMAS, streamIds, usagePeriodOf } from '@quorum/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../support/http-client';
import { createMeeting, reportJoined, reportLeft } from '../support/meetings';
import { addMember, createOrg, signUp, type TestUser } from '../support/people';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;

const as = (u: TestUser) => ({ token: u.token });
const INCLUDED_SECONDS = 600 * 60;

/** Appends `usage.recorded` intervals of `meter` (300 s each, the last one shorter) summing `seconds`. */
async function recordUsage(
  orgId: string,
  seconds: number,
  options: { meter?: 'meeting_minutes' | 'participant_minutes'; at?: Date } = {},
) {
  const meter = options.meter ?? 'meeting_minutes';
  const at = options.at ?? new Date();
  const period = usagePeriodOf(at);
  const sessionId = randomUUID();
  const stint = randomUUID();
  const monthStart = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
  const events = [];
  for (let from = 0; from < seconds; from += 300) {
    const length = Math.min(300, seconds - from);
    const data = USAGE_EVENT_DATA_SCHEMAS['usage.recorded'].parse({
      meter,
      sessionId,
      hostUserId: randomUUID(),
      participantId: meter === 'meeting_minutes' ? null : randomUUID(),
      stint,
      period,
      from: new Date(monthStart + from * 1000).toISOString(),
      to: new Date(monthStart + (from + length) * 1000).toISOString(),
      seconds: length,
      sources: [stint],
    });
    events.push({
      id: randomUUID(),
      type: 'usage.recorded',
      version: 1,
      data,
      metadata: {
        orgId,
        actor: { kind: 'system' as const, id: 'metering' },
        correlationId: randomUUID(),
        causationId: null,
      },
    });
  }
  await q.app.store.appendToStream(streamIds.usage(orgId, period), events);
}

/** An organization on `plan` whose owner holds a seat and hosts a meeting, with two more members. */
async function orgWithMeeting(plan: 'free' | 'pro') {
  const owner = await signUp(q.http, `${plan}-owner`);
  const { orgId } = await createOrg(q.http, owner, plan);
  await q.http.mutation('seats.purchase', { orgId, quantity: 1 }, as(owner));
  await q.http.mutation('seats.assign', { orgId, userId: owner.userId }, as(owner));
  const alice = await addMember(q.http, orgId, owner, 'member', 'alice');
  const bob = await addMember(q.http, orgId, owner, 'member', 'bob');
  const { sessionId } = await createMeeting(q.http, orgId, as(owner));
  return { orgId, owner, alice, bob, sessionId };
}

beforeAll(async () => {
  q = await startTestQuorum('meeting_minutes');
});

afterAll(async () => {
  await q?.stop();
});

describe("the free plan's included meeting minutes", () => {
  it('admits up to the last second, then refuses anyone new at join and at the SFU, the host too', async () => {
    const { orgId, owner, alice, bob, sessionId } = await orgWithMeeting('free');
    // A minute left; participant time, and last month's, count nothing toward it.
    await recordUsage(orgId, INCLUDED_SECONDS - 60);
    await recordUsage(orgId, 2 * INCLUDED_SECONDS, { meter: 'participant_minutes' });
    const lastMonth = new Date();
    lastMonth.setUTCDate(0);
    await recordUsage(orgId, 2 * INCLUDED_SECONDS, { at: lastMonth });
    await expect(q.http.mutation('meetings.join', { orgId, sessionId }, as(owner))).resolves.toMatchObject({
      participantId: owner.userId,
    });
    await reportJoined(q, orgId, sessionId, owner.userId, 'Owner');
    await reportJoined(q, orgId, sessionId, alice.userId, 'Alice');

    await recordUsage(orgId, 60);
    const before = await settledHead(q);
    const refused = await failure(q.http.mutation('meetings.join', { orgId, sessionId }, as(bob)));
    expect(refused).toMatchObject({ status: 412, code: 'PRECONDITION_FAILED', reason: 'session.minutes_exhausted' });
    expect(refused.message).toMatch(
      /^This organization has used the 600 meeting minutes its Free plan includes this month, so nobody new can join a meeting until \d{4}-\d{2}-01 \(UTC\)\. An owner or billing member can upgrade the plan to meet again now\.$/,
    );
    expect(await failure(reportJoined(q, orgId, sessionId, bob.userId, 'Bob'))).toMatchObject({
      reason: 'session.minutes_exhausted',
    });
    // Nobody in the meeting is cut off: asking again from another tab is admitted.
    await expect(q.http.mutation('meetings.join', { orgId, sessionId }, as(alice))).resolves.toMatchObject({
      participantId: alice.userId,
    });
    // Input is parsed before any rule: a bad one is still BAD_REQUEST.
    expect(await failure(q.http.mutation('meetings.join', { orgId, sessionId: 'nope' }, as(bob)))).toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
    });
    expect(await settledHead(q)).toBe(before);

    // The host who leaves and comes back is a new join.
    await reportLeft(q, orgId, sessionId, owner.userId);
    expect(await failure(q.http.mutation('meetings.join', { orgId, sessionId }, as(owner)))).toMatchObject({
      status: 412,
      reason: 'session.minutes_exhausted',
    });
    const events = (await q.app.store.readStream(streamIds.session(sessionId))).map((e) => e.type);
    expect(events).toEqual([
      'session.scheduled',
      'session.started',
      'participant.joined',
      'participant.joined',
      'participant.left',
    ]);
  });

  it('a paid organization with the same usage is admitted (billed overage instead)', async () => {
    const { orgId, owner, bob, sessionId } = await orgWithMeeting('pro');
    await recordUsage(orgId, INCLUDED_SECONDS + 600);
    await reportJoined(q, orgId, sessionId, owner.userId, 'Owner');
    await expect(q.http.mutation('meetings.join', { orgId, sessionId }, as(bob))).resolves.toMatchObject({
      participantId: bob.userId,
    });
    await expect(reportJoined(q, orgId, sessionId, bob.userId, 'Bob')).resolves.toMatchObject({ alreadyJoined: false });
  });

  it('a free organization that upgrades is admitted again at once', async () => {
    const { orgId, owner, alice, sessionId } = await orgWithMeeting('free');
    await recordUsage(orgId, INCLUDED_SECONDS);
    expect(await failure(q.http.mutation('meetings.join', { orgId, sessionId }, as(alice)))).toMatchObject({
      reason: 'session.minutes_exhausted',
    });
    await q.http.mutation('org.changePlan', { orgId, plan: 'pro' }, as(owner));
    await expect(q.http.mutation('meetings.join', { orgId, sessionId }, as(alice))).resolves.toMatchObject({
      participantId: alice.userId,
    });
  });
});
