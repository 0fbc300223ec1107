/**
 * The metering consumer on real PostgreSQL and NATS JetStream: session events go through the
 * relay and the bus; usage events land in the store, once, under ids derived from their
 * intervals, whatever is replayed or metered again.
 */
import { randomUUID } from 'node:crypto';
import { streamIds, usagePeriodOf } from '@quorum/domain';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Metering, usageEventId } from './metering';
import {
  appendMeeting,
  createOrganization,
  expectedUsage,
  logger,
  openMeteringTestEnv,
  secondsOf,
  totalsFrom,
  totalsOf,
  usageEvents,
  waitFor,
  type MeteringTestEnv,
} from './testing/metering-test-env';

let env: MeteringTestEnv;
const sessions: string[] = [];
const running: Metering[] = [];

beforeAll(async () => {
  env = await openMeteringTestEnv('metering-test');
});

// An instance left running would meter the next test's sessions on its own clock.
afterEach(async () => {
  for (const m of running.splice(0)) await m.close();
});

afterAll(async () => {
  if (env) {
    await env.close();
  }
});

async function startMetering(options: Partial<Parameters<typeof Metering.create>[0]> = {}): Promise<Metering> {
  const metering = await Metering.create({
    store: env.store,
    bus: env.bus,
    sql: env.sql,
    logger,
    durableName: `metering-${randomUUID().slice(0, 8)}`,
    ...options,
  });
  running.push(metering);
  await metering.start();
  return metering;
}

/** A meeting of three, an hour ago, over more than one cut point: reconnects, leaves, the end; appended whole. */
async function threePersonMeeting(orgId: string, start: Date) {
  const sessionId = randomUUID();
  sessions.push(sessionId);
  const [ada, bo, cy] = [randomUUID(), randomUUID(), randomUUID()];
  await appendMeeting(
    env.store,
    orgId,
    sessionId,
    start,
    [
      { at: 10, join: ada },
      { at: 70, join: bo },
      { at: 100, join: cy },
      { at: 400, leave: bo },
      { at: 500, reconnect: cy, node: 'sfu-2/run-b' },
      { at: 650, leave: cy },
      { at: 700, leave: ada },
      { at: 710, end: true },
    ],
    { oneAppend: true },
  );
  return sessionId;
}

describe('the metering consumer', () => {
  it("records a finished meeting's usage from its session events: every interval once, under its derived id", async () => {
    const orgId = randomUUID();
    await createOrganization(env.store, orgId);
    const start = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000 + 123_000);
    const sessionId = await threePersonMeeting(orgId, start);
    const expected = await expectedUsage(env.store, sessionId, new Date());
    expect(expected.length).toBeGreaterThan(6);

    await startMetering();
    const periods = expected.map((i) => i.period);
    await waitFor(
      async () => (await usageEvents(env.store, orgId, periods)).length >= expected.length,
      30_000,
      async () => `usage events: ${(await usageEvents(env.store, orgId, periods)).length} of ${expected.length}`,
    );
    const stored = await usageEvents(env.store, orgId, periods);
    expect(stored.map((e) => e.id).sort()).toEqual(expected.map((i) => usageEventId(i.key)).sort());
    for (const e of stored) {
      const interval = expected.find((i) => usageEventId(i.key) === e.id)!;
      expect(e.type).toBe('usage.recorded');
      expect(e.streamId).toBe(streamIds.usage(orgId, interval.period));
      expect(e.metadata.orgId).toBe(orgId);
      expect(e.data).toEqual({
        meter: interval.meter,
        sessionId,
        hostUserId: interval.hostUserId,
        participantId: interval.participantId,
        stint: interval.stint,
        period: interval.period,
        from: interval.from,
        to: interval.to,
        seconds: interval.seconds,
        sources: interval.sources,
      });
      // Caused by the session event that closed the interval.
      expect(e.metadata.causationId).toBe(interval.sources[interval.sources.length - 1]);
    }
    expect(await totalsOf(env.sql, orgId)).toEqual(totalsFrom(expected));
    // Three people: Ada 690 s, Bo 330 s, Cy 550 s; the meeting 690 s.
    expect(secondsOf(expected, 'participant_minutes')).toBe(690 + 330 + 550);
    expect(secondsOf(expected, 'meeting_minutes')).toBe(690);
  });

  it('appends nothing when the session is metered again, or a second instance replays every event', async () => {
    const orgId = randomUUID();
    await createOrganization(env.store, orgId);
    const start = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 7_200_000 + 45_000);
    const sessionId = await threePersonMeeting(orgId, start);
    const expected = await expectedUsage(env.store, sessionId, new Date());
    const periods = expected.map((i) => i.period);
    const first = await startMetering();
    await waitFor(
      async () => (await usageEvents(env.store, orgId, periods)).length >= expected.length,
      30_000,
      () => 'usage events of the first instance',
    );
    const before = await usageEvents(env.store, orgId, periods);

    const again = await first.meter(sessionId);
    expect(again).toMatchObject({ intervals: expected.length, appended: 0, nextDue: null });

    // A second instance with its own durable reads the namespace's whole stream from the start.
    const second = await startMetering();
    await waitFor(
      async () =>
        (await second.status()).sessionsMetered > 0 && (await second.status()).sessionsMetered >= sessions.length,
      30_000,
      async () => `second instance metered ${(await second.status()).sessionsMetered} sessions`,
    );
    // Its effects table is the shared one; the store is what must not change.
    const after = await usageEvents(env.store, orgId, periods);
    expect(after.map((e) => [e.id, e.revision])).toEqual(before.map((e) => [e.id, e.revision]));
    expect(after).toHaveLength(expected.length);

    // A new instance with the effects forgotten appends nothing new to the store and counts once more.
    await env.sql.query('DELETE FROM metering_effects WHERE session_id = $1', [sessionId]);
    await env.sql.query('DELETE FROM metering_totals WHERE org_id = $1', [orgId]);
    const third = await Metering.create({ store: env.store, bus: env.bus, sql: env.sql, logger });
    const replayed = await third.meter(sessionId);
    expect(replayed?.appended).toBe(expected.length);
    expect(await usageEvents(env.store, orgId, periods)).toHaveLength(expected.length);
    const { rows } = await env.sql.query<{ seconds: string }>(
      `SELECT seconds FROM metering_totals WHERE org_id = $1 AND meter = 'meeting_minutes'`,
      [orgId],
    );
    expect(rows[0]?.seconds).toBe('690');
  });

  it('shows a running meeting one settled interval at a time, with nobody joining or leaving', async () => {
    const orgId = randomUUID();
    await createOrganization(env.store, orgId);
    // A meeting that starts 40 s after a cut point, on a clock the test moves.
    const start = new Date(Math.floor(Date.now() / 300_000) * 300_000 - 3 * 3_600_000 + 40_000);
    let clock = start.getTime();
    const sessionId = randomUUID();
    sessions.push(sessionId);
    const person = randomUUID();
    const metering = await startMetering({ now: () => new Date(clock), settleLagMs: 150_000, tickMs: 50 });
    await appendMeeting(env.store, orgId, sessionId, start, [{ at: 0, join: person }]);
    const usage = () => usageEvents(env.store, orgId, [usagePeriodOf(start)]);
    await waitFor(
      async () => (await metering.status()).sessionsMetered > 0,
      30_000,
      () => 'the join was never metered',
    );
    expect(await usage()).toEqual([]);

    // The first cut point is 260 s after the join; it settles 150 s later.
    clock = start.getTime() + 260_000 + 149_000;
    await metering.tick();
    expect(await usage()).toEqual([]);
    clock = start.getTime() + 260_000 + 150_000;
    await waitFor(
      async () => (await usage()).length === 2,
      10_000,
      async () => `usage after the first interval settled: ${(await usage()).length}`,
    );
    const firstTwo = await usage();
    expect(firstTwo.map((e) => (e.data as { seconds: number }).seconds)).toEqual([260, 260]);

    // Ten hours later, on the ticker alone: one interval of each meter per five minutes.
    clock = start.getTime() + 10 * 3_600_000;
    await waitFor(
      async () => (await usage()).length >= 2 + 2 * 118,
      30_000,
      async () => `usage ten hours in: ${(await usage()).length}`,
    );
    const ids = (await usage()).map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('records each usage threshold of the included minutes once per period', async () => {
    const orgId = randomUUID();
    await createOrganization(env.store, orgId, 'free');
    // Last month, so every meeting is over and settled whatever the date today.
    const now = new Date();
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    const period = usagePeriodOf(monthStart);
    const metering = await startMetering();
    // The free plan includes 600 minutes: 500 of them first (past 80%), then 150 more (past 100%).
    const who = randomUUID();
    const first = randomUUID();
    sessions.push(first);
    await appendMeeting(
      env.store,
      orgId,
      first,
      monthStart,
      [
        { at: 0, join: who },
        { at: 500 * 60, leave: who },
      ],
      { oneAppend: true },
    );
    const thresholds = async () =>
      (await env.store.readStream(streamIds.usage(orgId, period))).filter((e) => e.type === 'usage.threshold_crossed');
    await waitFor(
      async () => (await thresholds()).length === 1,
      30_000,
      async () => `thresholds after 500 minutes: ${(await thresholds()).length}`,
    );
    const second = randomUUID();
    sessions.push(second);
    await appendMeeting(
      env.store,
      orgId,
      second,
      new Date(monthStart.getTime() + 10 * 3_600_000),
      [
        { at: 0, join: who },
        { at: 150 * 60, leave: who },
      ],
      { oneAppend: true },
    );
    await waitFor(
      async () => (await thresholds()).length === 2,
      30_000,
      async () => `thresholds after 650 minutes: ${(await thresholds()).length}`,
    );
    await metering.meter(first);
    await metering.meter(second);
    const crossed = await thresholds();
    expect(crossed.map((e) => e.data)).toEqual([
      expect.objectContaining({ period, threshold: 80, includedMinutes: 600, usedSeconds: 500 * 60 }),
      expect.objectContaining({ period, threshold: 100, includedMinutes: 600, usedSeconds: 650 * 60 }),
    ]);
  });
});
