import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePublicSchema, migrateReadModelSchema, readModelSchema } from '@quorum/db';
import { streamIds, usagePeriodOf, type UsageEvent } from '@quorum/domain';
import { toWireEvent, type NewEvent, type RecordedEvent, type WireEvent } from '@quorum/eventstore';
import {
  append,
  createTestDatabase,
  newEvent,
  snapshot,
  testDb,
  type TestDatabase,
} from '../testing/projector-test-env';
import { applyEvents, type ApplyOutcome } from './core.projection';

const VERSION = 1;
const schema = readModelSchema(VERSION);
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await migratePublicSchema(t.sql);
  await migrateReadModelSchema(t.sql, VERSION);
});
afterAll(async () => {
  await t?.drop();
});

type Meter = 'participant_minutes' | 'meeting_minutes';
interface Interval {
  meter: Meter;
  sessionId: string;
  hostUserId: string;
  from: string;
  seconds: number;
}

function recorded(orgId: string, i: Interval): NewEvent {
  const from = new Date(i.from);
  const event: UsageEvent = {
    type: 'usage.recorded',
    data: {
      meter: i.meter,
      sessionId: i.sessionId,
      hostUserId: i.hostUserId,
      participantId: i.meter === 'participant_minutes' ? randomUUID() : null,
      stint: randomUUID(),
      period: usagePeriodOf(from),
      from: from.toISOString(),
      to: new Date(from.getTime() + i.seconds * 1000).toISOString(),
      seconds: i.seconds,
      sources: [randomUUID(), randomUUID()],
    },
  };
  return newEvent(orgId, event);
}

async function apply(events: readonly (RecordedEvent | WireEvent)[]): Promise<ApplyOutcome[]> {
  const wire = events.map((e) => ('metadata' in e ? toWireEvent(e) : e));
  return testDb(t.sql)
    .transaction()
    .execute((trx) => applyEvents(trx, schema, wire));
}

/** A month of intervals over two hosts, three meetings and three days, both meters. */
function scenario() {
  const hosts = [randomUUID(), randomUUID()];
  const sessions = [randomUUID(), randomUUID(), randomUUID()];
  const intervals: Interval[] = [];
  for (let i = 0; i < 24; i++) {
    const day = 1 + (i % 3);
    intervals.push({
      meter: i % 4 === 0 ? 'meeting_minutes' : 'participant_minutes',
      sessionId: sessions[i % 3]!,
      hostUserId: hosts[i % 2]!,
      from: `2025-03-0${day}T${String(10 + (i % 5)).padStart(2, '0')}:0${i % 5}:07.000Z`,
      seconds: 17 + i * 11,
    });
  }
  return { hosts, sessions, intervals };
}

/** Seconds and record counts by a key of the intervals. */
function sums(intervals: Interval[], key: (i: Interval) => string) {
  const out = new Map<string, { seconds: number; records: number }>();
  for (const i of intervals) {
    const k = key(i);
    const s = out.get(k) ?? { seconds: 0, records: 0 };
    out.set(k, { seconds: s.seconds + i.seconds, records: s.records + 1 });
  }
  return Object.fromEntries([...out].sort(([a], [b]) => a.localeCompare(b)));
}

describe('usage projection', () => {
  it('projects one record per usage.recorded and daily sums equal to the intervals', async () => {
    const orgId = randomUUID();
    const { intervals } = scenario();
    const events = intervals.map((i) => recorded(orgId, i));
    const stored = await append(t.store, streamIds.usage(orgId, '202503'), events);
    expect(await apply(stored)).toEqual(stored.map(() => 'applied'));

    const rows = await snapshot(t.sql, schema, [orgId]);
    expect(rows.usage_records).toHaveLength(events.length);
    const first = rows.usage_records.find((r) => r.event_id === stored[0]!.id)!;
    const data = events[0]!.data as Extract<UsageEvent, { type: 'usage.recorded' }>['data'];
    expect(first).toMatchObject({
      org_id: orgId,
      period: '202503',
      meter: data.meter,
      session_id: data.sessionId,
      host_user_id: data.hostUserId,
      participant_id: data.participantId,
      stint: data.stint,
      seconds: data.seconds,
      day: data.from.slice(0, 10),
      sources: data.sources,
      position: stored[0]!.position.toString(),
    });
    expect(new Date(first.from_at).toISOString()).toBe(data.from);
    expect(new Date(first.to_at).toISOString()).toBe(data.to);

    const daily = sums(intervals, (i) => [i.meter, i.from.slice(0, 10), i.hostUserId, i.sessionId].join('|'));
    expect(
      Object.fromEntries(
        rows.usage_daily.map((r) => [
          [r.meter, r.day, r.host_user_id, r.session_id].join('|'),
          { seconds: Number(r.seconds), records: r.records },
        ]),
      ),
    ).toEqual(daily);
  });

  it('counts a replayed or duplicated usage event once', async () => {
    const orgId = randomUUID();
    const { intervals } = scenario();
    const stored = await append(
      t.store,
      streamIds.usage(orgId, '202503'),
      intervals.map((i) => recorded(orgId, i)),
    );
    await apply(stored);
    const before = await snapshot(t.sql, schema, [orgId]);

    // The same positions again: the event log turns them away.
    expect(await apply(stored)).toEqual(stored.map(() => 'duplicate'));
    expect(await snapshot(t.sql, schema, [orgId])).toEqual(before);

    // Past the event-log guard (its rows gone), and the same events under other positions in
    // one batch, twice each: the records are keyed by event id, the sums grow by new rows only.
    await testDb(t.sql).withSchema(schema).deleteFrom('event_log').where('org_id', '=', orgId).execute();
    expect(await apply(stored)).toEqual(stored.map(() => 'applied'));
    const moved = stored.flatMap((e, i) => {
      const w = toWireEvent(e);
      return [
        { ...w, position: String(10_000_000n + BigInt(2 * i)) },
        { ...w, position: String(10_000_001n + BigInt(2 * i)) },
      ];
    });
    expect(await apply(moved)).toEqual(moved.map(() => 'applied'));
    const after = await snapshot(t.sql, schema, [orgId]);
    expect({ ...after, event_log: [] }).toEqual({ ...before, event_log: [] });
  });

  it('keeps the first crossing of each threshold', async () => {
    const orgId = randomUUID();
    const crossing = (threshold: 80 | 100, usedSeconds: number, at: string): NewEvent =>
      newEvent(orgId, {
        type: 'usage.threshold_crossed',
        data: {
          period: '202503',
          meter: 'meeting_minutes',
          threshold,
          includedMinutes: 100,
          usedSeconds,
          at,
        },
      });
    const stored = await append(t.store, streamIds.usage(orgId, '202503'), [
      crossing(80, 4_800, '2025-03-10T12:00:00.000Z'),
      crossing(100, 6_000, '2025-03-20T08:30:00.000Z'),
      crossing(80, 4_900, '2025-03-21T00:00:00.000Z'),
    ]);
    await apply(stored);
    const { usage_thresholds } = await snapshot(t.sql, schema, [orgId]);
    expect(usage_thresholds.map((r) => [r.threshold, r.used_seconds, r.event_id])).toEqual([
      [80, '4800', stored[0]!.id],
      [100, '6000', stored[1]!.id],
    ]);
    expect(new Date(usage_thresholds[0]!.crossed_at).toISOString()).toBe('2025-03-10T12:00:00.000Z');
  });

  it('refuses a usage event on a stream of another organization or month, writing nothing', async () => {
    const orgId = randomUUID();
    const [e] = await append(t.store, streamIds.usage(randomUUID(), '202503'), [
      recorded(orgId, {
        meter: 'meeting_minutes',
        sessionId: randomUUID(),
        hostUserId: randomUUID(),
        from: '2025-03-04T10:00:00.000Z',
        seconds: 60,
      }),
    ]);
    await expect(apply([e!])).rejects.toThrow(/not that of org/);
    const [f] = await append(t.store, streamIds.usage(orgId, '202502'), [
      recorded(orgId, {
        meter: 'meeting_minutes',
        sessionId: randomUUID(),
        hostUserId: randomUUID(),
        from: '2025-03-04T10:00:00.000Z',
        seconds: 60,
      }),
    ]);
    await expect(apply([f!])).rejects.toThrow(/not that of org/);
    const rows = await snapshot(t.sql, schema, [orgId]);
    expect([rows.event_log, rows.usage_records, rows.usage_daily]).toEqual([[], [], []]);
  });
});
