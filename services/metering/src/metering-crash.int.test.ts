/**
 * The kill test: the metering process dies by SIGKILL while a burst of meetings streams in (no
 * close, possibly between an append and its effects row), a new one takes over the durable, and
 * the usage in the store and the totals are exactly what the session streams give.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { UsageInterval } from '@quorum/domain';
import { killAll, spawnService, type ChildService } from '@quorum/runtime/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { usageEventId } from './metering';
import {
  appendMeeting,
  createOrganization,
  expectedUsage,
  openMeteringTestEnv,
  totalsFrom,
  totalsOf,
  TEST_NATS_URL,
  usageEvents,
  waitFor,
  type MeteringTestEnv,
} from './testing/metering-test-env';

const SERVICE_DIR = fileURLToPath(new URL('..', import.meta.url));
const MEETINGS = 160;
/** The burst waits here for the kill if it has not landed yet, so it always lands mid-burst. */
const HOLD_AT = 100;

let env: MeteringTestEnv;
const sessions: string[] = [];

beforeAll(async () => {
  env = await openMeteringTestEnv('metering-crash');
});

afterAll(async () => {
  killAll();
  if (env) {
    await env.close();
  }
});

function spawnMetering(durable: string): ChildService {
  return spawnService(SERVICE_DIR, {
    DATABASE_URL: env.databaseUrl,
    NATS_URL: TEST_NATS_URL,
    NATS_NAMESPACE: env.namespace,
    METERING_DURABLE: durable,
    LOG_LEVEL: 'info',
  });
}

async function effectsOf(orgId: string): Promise<number> {
  const { rows } = await env.sql.query<{ n: string }>('SELECT count(*) AS n FROM metering_effects WHERE org_id = $1', [
    orgId,
  ]);
  return Number(rows[0]!.n);
}

it('records every interval once when the metering process is SIGKILLed during a burst and restarted', async () => {
  const orgId = randomUUID();
  await createOrganization(env.store, orgId);
  const durable = `metering-crash-${randomUUID().slice(0, 8)}`;
  // Meetings of the past day, each appended whole, so every interval is final once it is in the store.
  const base = Math.floor(Date.now() / 300_000) * 300_000 - 86_400_000;

  const first = spawnMetering(durable);
  await waitFor(
    () => first.output().includes('metering running'),
    60_000,
    () => `the metering process did not start:\n${first.output()}`,
  );
  let appended = 0;
  let killed!: () => void;
  const kill = new Promise<void>((resolve) => (killed = resolve));
  const appending = (async () => {
    for (let m = 0; m < MEETINGS; m++) {
      if (m === HOLD_AT) await kill;
      const sessionId = randomUUID();
      sessions.push(sessionId);
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      await appendMeeting(
        env.store,
        orgId,
        sessionId,
        new Date(base + m * 420_000 + (m % 7) * 13_000),
        [
          { at: 3, join: a },
          { at: 40 + (m % 11), join: b },
          { at: 95, join: c },
          { at: 290 + (m % 5), leave: b },
          { at: 333, reconnect: c, node: 'sfu-2/run-b' },
          { at: 380 + (m % 3), leave: c },
          { at: 400, leave: a },
          { at: 405, end: true },
        ],
        { oneAppend: true },
      );
      appended++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();

  await waitFor(
    async () => (await effectsOf(orgId)) > 0,
    60_000,
    () => `the first process recorded nothing; its output:\n${first.output()}`,
  );
  first.child.kill('SIGKILL');
  expect((await first.exited).signal).toBe('SIGKILL');
  const meetingsAtKill = appended;
  killed();
  const effectsAtKill = await effectsOf(orgId);
  await appending;
  expect(meetingsAtKill, 'the kill must land while meetings are still being appended').toBeLessThan(MEETINGS);

  const expected: UsageInterval[] = [];
  for (const sessionId of sessions) expected.push(...(await expectedUsage(env.store, sessionId, new Date())));
  expect(effectsAtKill).toBeLessThan(expected.length);

  const second = spawnMetering(durable);
  await waitFor(
    async () => (await effectsOf(orgId)) >= expected.length,
    120_000,
    async () => `after the restart, ${await effectsOf(orgId)} of ${expected.length} recorded:\n${second.output()}`,
  );
  const periods = expected.map((i) => i.period);
  const stored = await usageEvents(env.store, orgId, periods);
  expect(stored.map((e) => e.id).sort()).toEqual(expected.map((i) => usageEventId(i.key)).sort());

  expect(await totalsOf(env.sql, orgId)).toEqual(totalsFrom(expected));
  second.child.kill('SIGTERM');
  expect((await second.exited).code).toBe(0);
}, 240_000);
