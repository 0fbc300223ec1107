/**
 * Usage through `createCaller` over the embedded adapters (PGlite, the in-process projector):
 * the usage read models and procedures work on the `npm start` default as on PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { currentVersionOf, streamIds } from '@quorum/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusal, startCallerHarness, type CallerHarness, type TestUser } from '../testing/caller-harness';

let h: CallerHarness;
let owner: TestUser;
let orgId: string;

beforeAll(async () => {
  h = await startCallerHarness();
  owner = await h.signUp('owner');
  ({ orgId } = await h.createOrg(owner, 'pro'));
}, 60_000);

afterAll(async () => {
  await h?.close();
});

function recorded(seconds: number, from: string, meter: 'participant_minutes' | 'meeting_minutes') {
  const to = new Date(Date.parse(from) + seconds * 1000).toISOString();
  return {
    id: randomUUID(),
    type: 'usage.recorded',
    version: currentVersionOf('usage.recorded'),
    data: {
      meter,
      sessionId: randomUUID(),
      hostUserId: owner.userId,
      participantId: meter === 'participant_minutes' ? randomUUID() : null,
      stint: randomUUID(),
      period: '202503',
      from,
      to,
      seconds,
      sources: [randomUUID()],
    },
    metadata: {
      orgId,
      actor: { kind: 'system' as const, id: 'metering' },
      correlationId: randomUUID(),
      causationId: null,
    },
  };
}

describe('usage on the embedded adapters', () => {
  it('projects usage events and answers summaries and records, each event once', async () => {
    const events = [
      recorded(61, '2025-03-01T10:00:00.000Z', 'participant_minutes'),
      recorded(59, '2025-03-01T10:05:00.000Z', 'participant_minutes'),
      recorded(120, '2025-03-02T23:55:00.000Z', 'meeting_minutes'),
    ];
    const { position } = await h.store.appendToStream(streamIds.usage(orgId, '202503'), events);
    const asOwner = h.caller({ token: owner.token });
    const summary = await asOwner.usage.summary({
      orgId,
      period: '202503',
      groupBy: 'day',
      minPosition: position.toString(),
    });
    expect(summary.rows).toEqual([
      { key: '2025-03-01', meter: 'participant_minutes', seconds: 120, minutes: 2, records: 2 },
      { key: '2025-03-02', meter: 'meeting_minutes', seconds: 120, minutes: 2, records: 1 },
    ]);
    expect(summary.totals).toEqual([
      { meter: 'participant_minutes', seconds: 120, minutes: 2, records: 2 },
      { meter: 'meeting_minutes', seconds: 120, minutes: 2, records: 1 },
    ]);
    const page = await asOwner.usage.records({ orgId, period: '202503', limit: 2 });
    const rest = await asOwner.usage.records({ orgId, period: '202503', limit: 2, cursor: page.next! });
    expect([...page.records, ...rest.records].map((r) => r.eventId)).toEqual(events.map((e) => e.id));
    expect(rest.next).toBeNull();

    // The same events appended again: whatever the store makes of it, the totals stand.
    const replay = await h.store.appendToStream(streamIds.usage(orgId, '202503'), events);
    const again = await asOwner.usage.summary({
      orgId,
      period: '202503',
      groupBy: 'meter',
      minPosition: replay.position.toString(),
    });
    expect(again.totals).toEqual(summary.totals);
  });

  it('refuses a member without the billing or owner role', async () => {
    const member = await h.addMember(orgId, owner, 'admin');
    const f = await refusal(h.caller({ token: member.token }).usage.summary({ orgId, period: '202503' }));
    expect(f).toMatchObject({ code: 'FORBIDDEN', reason: 'auth.forbidden' });
  });
});
