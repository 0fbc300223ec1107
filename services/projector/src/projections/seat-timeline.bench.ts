/**
 * What applying one seat event costs when its organization already has a long seat timeline:
 * `applyEvents` of single `seats.purchased`/`seats.released` events (the lag bench's commands),
 * each in its own transaction, after `--history` such events were applied. Prints CPU time per
 * applied event of this process (`process.cpuUsage`) and of the database's server processes
 * (`/proc/<pid>/stat` of its backends; the server runs on this machine), then wall time: on a
 * shared machine CPU time says more than the clock.
 *
 *   node --import tsx services/projector/src/projections/seat-timeline.bench.ts [--history 5000] [--events 300]
 *
 * Needs the integration tier's PostgreSQL (DATABASE_URL, as the int tests; scripts/services.sh).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { migratePublicSchema, migrateReadModelSchema, readModelSchema } from '@quorum/db';
import { currentVersionOf, type DomainEvent } from '@quorum/domain';
import type { WireEvent } from '@quorum/eventstore';
import { createTestDatabase, testDb, type TestDatabase } from '../testing/projector-test-env';
import { applyEvents } from './core.projection';

const { values } = parseArgs({
  options: { history: { type: 'string', default: '5000' }, events: { type: 'string', default: '300' } },
});
const HISTORY = Number(values.history);
const EVENTS = Number(values.events);
const VERSION = 1;
const schema = readModelSchema(VERSION);
const TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s.

let position = 1_000n;
let seats = 1;
function wire(orgId: string, event: DomainEvent, streamId: string): WireEvent {
  position += 1n;
  return {
    id: randomUUID(),
    type: event.type,
    version: currentVersionOf(event.type),
    streamId,
    revision: String(position),
    position: String(position),
    occurredAt: new Date(Date.UTC(2025, 2, 1) + Number(position) * 1_000).toISOString(),
    orgId,
    actor: { kind: 'user', id: orgId },
    correlationId: randomUUID(),
    causationId: null,
    traceparent: null,
    data: event.data,
  };
}

/** Purchases and releases of one seat in turn, as the lag bench sends them. */
function seatEvent(orgId: string, i: number): WireEvent {
  const event: DomainEvent =
    i % 2 === 0
      ? { type: 'seats.purchased', data: { quantity: 1, total: ++seats } }
      : { type: 'seats.released', data: { quantity: 1, total: --seats } };
  return wire(orgId, event, `seats-${orgId}`);
}

async function backendCpuMs(t: TestDatabase): Promise<number> {
  const { rows } = await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = ${t.name}`.execute(
    testDb(t.sql),
  );
  let ticks = 0;
  for (const { pid } of rows) {
    // Fields 14 and 15 (utime, stime) after the parenthesised command name.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1_000) / TICKS;
}

const t = await createTestDatabase();
try {
  await migratePublicSchema(t.sql);
  await migrateReadModelSchema(t.sql, VERSION);
  const db = testDb(t.sql);
  const orgId = randomUUID();
  const created = wire(
    orgId,
    {
      type: 'organization.created',
      data: {
        orgId,
        name: 'Bench',
        plan: 'business',
        ownerUserId: randomUUID(),
        ownerEmail: 'o@bench.test',
        trialEndsAt: '2025-04-01T00:00:00.000Z',
      },
    },
    `organization-${orgId}`,
  );
  const first = wire(orgId, { type: 'seats.purchased', data: { quantity: 1, total: 1 } }, `seats-${orgId}`);
  const history = [created, first, ...Array.from({ length: HISTORY }, (_, i) => seatEvent(orgId, i))];
  for (let i = 0; i < history.length; i += 500) {
    const batch = history.slice(i, i + 500);
    await db.transaction().execute((trx) => applyEvents(trx, schema, batch));
  }
  // Warm-up (JIT, plans, the pool's connections), not counted.
  const warm = Array.from({ length: 20 }, (_, i) => seatEvent(orgId, HISTORY + i));
  const measured = Array.from({ length: EVENTS }, (_, i) => seatEvent(orgId, HISTORY + warm.length + i));
  for (const e of warm) await db.transaction().execute((trx) => applyEvents(trx, schema, [e]));

  const pgBefore = await backendCpuMs(t);
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  for (const e of measured) await db.transaction().execute((trx) => applyEvents(trx, schema, [e]));
  const wall = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  const pg = (await backendCpuMs(t)) - pgBefore;
  const { rows } = await sql<{ n: string }>`SELECT count(*)::text AS n FROM ${sql.table(`${schema}.seat_intervals`)}
    WHERE org_id = ${orgId}`.execute(db);
  const per = (ms: number) => (ms / measured.length).toFixed(3);
  console.log(
    [
      `history ${HISTORY} seat events, ${measured.length} applied one per transaction, ${rows[0]!.n} seat_intervals rows`,
      `  this process CPU: ${per((cpu.user + cpu.system) / 1_000)} ms per event`,
      `  PostgreSQL backends CPU: ${per(pg)} ms per event`,
      `  wall: ${per(wall)} ms per event`,
    ].join('\n'),
  );
} finally {
  await t.drop();
}
