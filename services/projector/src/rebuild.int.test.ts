import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgSubjectFilter } from '@quorum/bus';
import type { NatsBus } from '@quorum/bus/nats';
import { readModelSchema } from '@quorum/db';
import type { NewEvent, RecordedEvent } from '@quorum/eventstore';
import { readActiveVersion, readCheckpoint } from './bookkeeping.repository';
import { Projector } from './projector';
import { rebuildProjection } from './rebuild';
import {
  append,
  createTestBus,
  createTestDatabase,
  newEvent,
  orgScenario,
  orgStream,
  publish,
  seatsStream,
  snapshot,
  testDb,
  testLogger,
  uniquePrefix,
  type TestDatabase,
} from './testing/projector-test-env';

let t: TestDatabase;
let bus: NatsBus;

beforeAll(async () => {
  t = await createTestDatabase();
  bus = await createTestBus();
});
afterAll(async () => {
  await bus?.deleteStream();
  await bus?.close();
  await t?.drop();
});

/** A busy organization: ~`members` × 5 events across both streams, in position order. */
async function appendBusyOrg(orgId: string, members: number): Promise<RecordedEvent[]> {
  const s = orgScenario(orgId);
  const recorded = [...(await append(t.store, orgStream(orgId), s.organization.slice(0, 2)))];
  recorded.push(
    ...(await append(t.store, seatsStream(orgId), [
      newEvent(orgId, { type: 'seats.purchased', data: { quantity: 25, total: 25 } }),
    ])),
  );
  const org: NewEvent[] = [];
  const seats: NewEvent[] = [];
  const removals: { seats: NewEvent[]; org: NewEvent[] } = { seats: [], org: [] };
  for (let i = 0; i < members; i++) {
    const userId = randomUUID();
    const invitationId = randomUUID();
    const email = `m${i}@busy.test`;
    org.push(
      newEvent(orgId, {
        type: 'member.invited',
        data: { invitationId, email, role: 'member', invitedBy: s.ownerId, expiresAt: '2030-01-01T00:00:00.000Z' },
      }),
      newEvent(orgId, { type: 'member.joined', data: { userId, email, role: 'member', invitationId } }),
      newEvent(orgId, {
        type: 'member.role_changed',
        data: { userId, from: 'member', to: i % 2 ? 'host' : 'billing' },
      }),
    );
    if (i < 20) seats.push(newEvent(orgId, { type: 'seat.assigned', data: { userId } }));
    if (i % 7 === 0) {
      if (i < 20)
        removals.seats.push(newEvent(orgId, { type: 'seat.unassigned', data: { userId, reason: 'member_removed' } }));
      removals.org.push(newEvent(orgId, { type: 'member.removed', data: { userId } }));
    }
  }
  recorded.push(...(await append(t.store, orgStream(orgId), org)));
  recorded.push(...(await append(t.store, seatsStream(orgId), seats)));
  recorded.push(...(await append(t.store, seatsStream(orgId), removals.seats)));
  recorded.push(...(await append(t.store, orgStream(orgId), removals.org)));
  const usage: NewEvent[] = [];
  for (let i = 0; i < 120; i++) {
    const from = Date.UTC(2025, 0, 1 + (i % 28), 9, (i * 7) % 60, i % 50);
    const seconds = 1 + ((i * 37) % 299);
    usage.push(
      newEvent(orgId, {
        type: 'usage.recorded',
        data: {
          meter: i % 3 ? 'participant_minutes' : 'meeting_minutes',
          sessionId: `00000000-0000-4000-8000-${String(i % 9).padStart(12, '0')}`,
          hostUserId: s.ownerId,
          participantId: i % 3 ? randomUUID() : null,
          stint: randomUUID(),
          period: '202501',
          from: new Date(from).toISOString(),
          to: new Date(from + seconds * 1000).toISOString(),
          seconds,
          sources: [randomUUID()],
        },
      }),
    );
  }
  usage.push(
    { ...newEvent(orgId, { type: 'organization.activated', data: {} }), type: 'usage.metered', data: {} },
    newEvent(orgId, {
      type: 'usage.threshold_crossed',
      data: {
        period: '202501',
        meter: 'meeting_minutes',
        threshold: 80,
        includedMinutes: 100,
        usedSeconds: 4_800,
        at: '2025-01-20T10:00:00.000Z',
      },
    }),
  );
  recorded.push(...(await append(t.store, `usage-${orgId}-202501`, usage)));
  return recorded.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
}

describe('rebuildProjection', () => {
  it('builds the next version with identical rows, switches projection_active, and the projector follows', async () => {
    const orgId = randomUUID();
    const events = await appendBusyOrg(orgId, 300);
    const last = events.at(-1)!;
    const projector = await Projector.create({
      sql: t.sql,
      bus,
      store: t.store,
      logger: testLogger(),
      durablePrefix: uniquePrefix(),
      filterSubject: orgSubjectFilter(orgId),
      versionCheckIntervalMs: 100,
    });
    try {
      await projector.start();
      await publish(bus, events);
      expect(await projector.waitForPosition(last.position, 60_000)).toBe(true);
      const v1 = await snapshot(t.sql, readModelSchema(1), [orgId]);
      expect(v1.event_log).toHaveLength(events.length);
      expect(v1.members.length).toBeGreaterThan(200);
      expect(v1.usage_records).toHaveLength(120);
      expect(v1.usage_thresholds).toHaveLength(1);
      expect(v1.usage_daily.reduce((n, r) => n + r.records, 0)).toBe(120);
      // Created on pro with no seats, then 25: two stretches; 20 seats held, 3 of them given back.
      expect(v1.seat_intervals.map((r) => [r.quantity, r.plan, r.to_at === null])).toEqual([
        [0, 'pro', false],
        [25, 'pro', true],
      ]);
      expect(v1.seat_holdings).toHaveLength(20);
      expect(v1.seat_holdings.filter((r) => r.reason === 'member_removed')).toHaveLength(3);

      const result = await rebuildProjection({ sql: t.sql, store: t.store, logger: testLogger(), batchSize: 250 });
      console.log(
        `[rebuild] ${result.events} events in ${result.durationMs.toFixed(0)} ms: ${result.eventsPerSecond} events/s (batch 250)`,
      );
      expect(result).toMatchObject({
        previousVersion: 1,
        version: 2,
        events: events.length,
        deadLetters: 0,
        checkpoint: last.position,
      });
      expect(await readActiveVersion(testDb(t.sql), 'core')).toBe(2);
      expect(await readCheckpoint(testDb(t.sql), 'core', 2)).toBe(last.position);
      expect(await snapshot(t.sql, readModelSchema(2), [orgId])).toEqual(v1);

      // The live projector moves to v2's durable: it replays the stream, skips what the rebuild
      // covered, and applies new events to v2 only.
      await expect.poll(async () => (await projector.status()).version, { timeout: 10_000, interval: 50 }).toBe(2);
      const [next] = await append(t.store, orgStream(orgId), [
        newEvent(orgId, { type: 'organization.activated', data: {} }),
      ]);
      await publish(bus, [next!]);
      expect(await projector.waitForPosition(next!.position, 20_000)).toBe(true);
      expect((await snapshot(t.sql, readModelSchema(2), [orgId])).organizations).toEqual([
        expect.objectContaining({ status: 'active' }),
      ]);
      expect((await snapshot(t.sql, readModelSchema(1), [orgId])).organizations).toEqual([
        expect.objectContaining({ status: 'trialing' }),
      ]);
      expect(await projector.status()).toMatchObject({ version: 2, checkpoint: next!.position, degraded: false });
    } finally {
      await projector.close();
    }
  });

  it('refuses to rebuild into the active version', async () => {
    const active = await readActiveVersion(testDb(t.sql), 'core');
    await expect(
      rebuildProjection({ sql: t.sql, store: t.store, logger: testLogger(), version: active! }),
    ).rejects.toThrow(/is active/);
  });
});
