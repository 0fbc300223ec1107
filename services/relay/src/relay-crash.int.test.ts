/**
 * The kill test: the relay process dies by SIGKILL mid-stream (no close, no checkpoint flush),
 * a new one resumes from the checkpoint, and JetStream still holds every event exactly once,
 * in position order.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { NatsBus } from '@quorum/bus/nats';
import { createPgSqlDatabase, migratePublicSchema, type SqlDatabase } from '@quorum/db';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { killAll, spawnService, type ChildService } from '@quorum/runtime/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  checkpointRow,
  makeEvents,
  readOrgMessages,
  requireNats,
  requirePostgres,
  seedCheckpointAtHead,
  TEST_NATS_URL,
  waitFor,
} from './test-support';

const SERVICE_DIR = fileURLToPath(new URL('..', import.meta.url));
const EVENTS = 3_000;
const PER_APPEND = 25;

let databaseUrl: string;
let sql: SqlDatabase;
let store: PostgresEventStore;
let bus: NatsBus;

beforeAll(async () => {
  databaseUrl = await requirePostgres();
  bus = await requireNats('relay-crash-test');
  sql = createPgSqlDatabase({ connectionString: databaseUrl, max: 4 });
  await migratePublicSchema(sql);
  store = await PostgresEventStore.create(sql);
});

afterAll(async () => {
  killAll();
  await bus?.close();
  await store?.close();
  await sql?.close();
});

function spawnRelay(name: string): ChildService {
  return spawnService(SERVICE_DIR, {
    DATABASE_URL: databaseUrl,
    NATS_URL: TEST_NATS_URL,
    RELAY_NAME: name,
    RELAY_BATCH_SIZE: '50',
    RELAY_LEADER_RETRY_MS: '200',
    LOG_LEVEL: 'info',
  });
}

it('loses nothing and duplicates nothing when the relay is SIGKILLed mid-stream and restarted', async () => {
  const name = `crash-test-${randomUUID()}`;
  const orgId = randomUUID();
  const seeded = await seedCheckpointAtHead(sql, store, name);
  const events = makeEvents(orgId, EVENTS);

  const first = spawnRelay(name);
  await waitFor(
    () => first.output().includes('"msg":"relay is leader"'),
    60_000,
    () => `first relay did not start:\n${first.output()}`,
  );
  let appended = 0;
  const appending = (async () => {
    for (let offset = 0; offset < EVENTS; offset += PER_APPEND) {
      // Several streams, so positions interleave across streams of the same org.
      const stream = `${['organization', 'seats', 'session'][(offset / PER_APPEND) % 3]}-${orgId}`;
      await store.appendToStream(stream, events.slice(offset, offset + PER_APPEND));
      appended += PER_APPEND;
      // Spread the appends over a few seconds so the kill lands while events still stream in.
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  })();

  // Kill once the first relay has published some, but not all, of the events.
  await waitFor(
    async () => ((await checkpointRow(sql, name)) ?? seeded) > seeded,
    60_000,
    () => `first relay never published anything; its output:\n${first.output()}`,
  );
  first.child.kill('SIGKILL');
  expect((await first.exited).signal).toBe('SIGKILL');
  const checkpointAtKill = (await checkpointRow(sql, name))!;
  const appendedAtKill = appended;
  await appending;
  const head = await store.headPosition();
  expect(appendedAtKill, 'the kill must land while events are still being appended').toBeLessThan(EVENTS);
  expect(checkpointAtKill).toBeLessThan(head);

  const second = spawnRelay(name);
  await waitFor(
    async () => ((await checkpointRow(sql, name)) ?? 0n) >= head,
    60_000,
    () => `restarted relay did not reach the head ${head}; its output:\n${second.output()}`,
  );
  second.child.kill('SIGTERM');
  expect(await second.exited, `graceful shutdown; output:\n${second.output()}`).toEqual({ code: 0, signal: null });

  const messages = await readOrgMessages(bus, orgId, EVENTS, 1_500);
  const counts = new Map<string, number>();
  for (const message of messages) counts.set(message.id, (counts.get(message.id) ?? 0) + 1);
  const missing = events.filter((event) => !counts.has(event.id)).length;
  const repeated = [...counts.values()].filter((count) => count > 1).length;
  expect({ missing, repeated, received: messages.length }).toEqual({ missing: 0, repeated: 0, received: EVENTS });
  for (let i = 1; i < messages.length; i++) {
    if (messages[i]!.position <= messages[i - 1]!.position) {
      throw new Error(
        `positions not strictly increasing at message ${i}: ${messages[i - 1]!.position} then ${messages[i]!.position}`,
      );
    }
  }
});
