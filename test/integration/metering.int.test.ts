/**
 * Metering inside the all-in-one process: a meeting of three through the gateway, with joins
 * and leaves reported as the SFU reports them, becomes usage events on the organization's
 * usage stream, exactly what the session stream gives.
 */
import { meterSession, streamIds, usagePeriodOf, type StoredSessionEvent, type UsageInterval } from '@quorum/domain';
import { usageEventId } from '@quorum/metering/metering';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../support/eventually';
import { createMeeting, reportJoined, reportLeft } from '../support/meetings';
import { addMember, createOrg, signUp, type TestUser } from '../support/people';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;
let owner: TestUser;
let orgId: string;

beforeAll(async () => {
  // Settle 2 s behind the clock instead of 150, so the meeting's own minutes show up at once.
  q = await startTestQuorum('metering', { METERING_SETTLE_LAG_SECONDS: '2', METERING_TICK_MS: '100' });
  owner = await signUp(q.http, 'owner');
  ({ orgId } = await createOrg(q.http, owner, 'pro'));
  await q.http.mutation('seats.purchase', { orgId, quantity: 3 }, { token: owner.token });
  await q.http.mutation('seats.assign', { orgId, userId: owner.userId }, { token: owner.token });
});

afterAll(async () => {
  await q?.stop();
});

async function usageOf(period: string) {
  return q.app.store.readStream(streamIds.usage(orgId, period));
}

it('records a meeting of three as usage events: each person, the meeting, every interval once', async () => {
  const { sessionId } = await createMeeting(q.http, orgId, { token: owner.token });
  const [bo, cy] = [await addMember(q.http, orgId, owner, 'member'), await addMember(q.http, orgId, owner, 'member')];
  await reportJoined(q, orgId, sessionId, owner.userId, 'Owner');
  await reportJoined(q, orgId, sessionId, bo.userId, 'Bo');
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await reportJoined(q, orgId, sessionId, cy.userId, 'Cy');
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await reportLeft(q, orgId, sessionId, bo.userId);
  await reportLeft(q, orgId, sessionId, cy.userId);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await q.http.mutation('meetings.end', { orgId, sessionId }, { token: owner.token });

  const stream = await q.app.store.readStream(streamIds.session(sessionId));
  const events = stream.map((e) => ({ id: e.id, type: e.type, data: e.data }) as StoredSessionEvent);
  const expected: UsageInterval[] = meterSession(events, new Date(Date.now() + 86_400_000));
  expect(new Set(expected.filter((i) => i.meter === 'participant_minutes').map((i) => i.participantId))).toEqual(
    new Set([owner.userId, bo.userId, cy.userId]),
  );
  const periods = [...new Set(expected.map((i) => i.period))];
  expect(periods).toContain(usagePeriodOf(new Date(stream[0]!.occurredAt)));

  await eventually(async () => {
    const stored = (await Promise.all(periods.map(usageOf))).flat();
    expect(stored.map((e) => e.id).sort()).toEqual(expected.map((i) => usageEventId(i.key)).sort());
  }, 20_000);
  const stored = (await Promise.all(periods.map(usageOf))).flat();
  for (const e of stored) {
    expect(e.type).toBe('usage.recorded');
    expect(e.metadata.actor).toEqual({ kind: 'system', id: 'metering' });
    // Each names session events of this meeting.
    for (const source of (e.data as { sources: string[] }).sources) expect(events.map((x) => x.id)).toContain(source);
  }
  const total = (meter: string) =>
    stored
      .filter((e) => (e.data as { meter: string }).meter === meter)
      .reduce((s, e) => s + (e.data as { seconds: number }).seconds, 0);
  expect(total('meeting_minutes')).toBe(
    expected.filter((i) => i.meter === 'meeting_minutes').reduce((s, i) => s + i.seconds, 0),
  );
  expect(total('participant_minutes')).toBeGreaterThanOrEqual(total('meeting_minutes'));

  // The owner reads the same usage back from the read models: each event once, every second.
  const minPosition = stored.reduce((max, e) => (e.position > max ? e.position : max), 0n).toString();
  for (const period of periods) {
    const own = stored.filter((e) => (e.data as { period: string }).period === period);
    const summary = await q.http.query('usage.summary', { orgId, period, groupBy: 'meeting', minPosition }, as(owner));
    const seconds = (meter: string) =>
      own
        .filter((e) => (e.data as { meter: string }).meter === meter)
        .reduce((n, e) => n + (e.data as { seconds: number }).seconds, 0);
    expect(summary.totals.map((t: { meter: string; seconds: number }) => [t.meter, t.seconds])).toEqual([
      ['participant_minutes', seconds('participant_minutes')],
      ['meeting_minutes', seconds('meeting_minutes')],
    ]);
    const page = await q.http.query('usage.records', { orgId, period, sessionId, limit: 500 }, as(owner));
    expect(page.records.map((r: { eventId: string }) => r.eventId)).toEqual(own.map((e) => e.id));
  }
});

function as(u: TestUser) {
  return { token: u.token };
}
