import { randomUUID } from 'node:crypto';
import type { NatsBus } from '@quorum/bus/nats';
import { createPgSqlDatabase, migratePublicSchema, type SqlDatabase } from '@quorum/db';
import type { RecordedEvent } from '@quorum/eventstore';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_LOCK_NAMESPACE, lockKeyText } from './leader-lock';
import { Relay } from './relay';
import {
  checkpointRow,
  makeEvents,
  readOrgMessages,
  requireNats,
  requirePostgres,
  seedCheckpointAtHead,
  waitFor,
} from './test-support';

const logger = pino({ level: 'warn' });

describe('Relay against PostgreSQL and NATS JetStream', () => {
  let sql: SqlDatabase;
  let store: PostgresEventStore;
  let bus: NatsBus;
  const relays: Relay[] = [];

  beforeAll(async () => {
    const url = await requirePostgres();
    bus = await requireNats('relay-int-test');
    sql = createPgSqlDatabase({
      connectionString: url,
      applicationName: 'relay-int-test',
      onConnectionError: (err) => logger.warn({ err }, 'postgres connection failed'),
    });
    await migratePublicSchema(sql);
    store = await PostgresEventStore.create(sql);
  });

  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.close()));
    await bus?.close();
    await store?.close();
    await sql?.close();
  });

  async function newRelay(name: string): Promise<Relay> {
    const relay = await Relay.create({ store, bus, sql, logger, name, leaderRetryMs: 100 });
    relays.push(relay);
    return relay;
  }

  async function append(orgId: string, count: number): Promise<RecordedEvent[]> {
    const seats = makeEvents(orgId, count);
    const half = Math.floor(count / 2);
    await store.appendToStream(`organization-${orgId}`, seats.slice(0, half));
    await store.appendToStream(`seats-${orgId}`, seats.slice(half));
    const ids = new Set(seats.map((event) => event.id));
    const stored = [
      ...(await store.readStream(`organization-${orgId}`)),
      ...(await store.readStream(`seats-${orgId}`)),
    ];
    return stored.filter((event) => ids.has(event.id)).sort((a, b) => (a.position < b.position ? -1 : 1));
  }

  function expectExactlyOnceInOrder(messages: { id: string; position: bigint }[], events: RecordedEvent[]): void {
    expect(messages.map((m) => m.id)).toEqual(events.map((e) => e.id));
    expect(messages.map((m) => m.position)).toEqual(events.map((e) => e.position));
  }

  it('publishes each event once, in position order, on evt.<orgId>.> and checkpoints the last position', async () => {
    const name = `test-${randomUUID()}`;
    const orgId = randomUUID();
    await seedCheckpointAtHead(sql, store, name);
    const relay = await newRelay(name);
    relay.start();

    const events = await append(orgId, 40);
    const last = events[events.length - 1]!.position;
    await waitFor(
      () => relay.status().checkpoint >= last,
      20_000,
      () => `checkpoint ${relay.status().checkpoint} < ${last}`,
    );

    const messages = await readOrgMessages(bus, orgId, events.length);
    expectExactlyOnceInOrder(messages, events);
    expect(messages[0]?.subject).toBe(`evt.${orgId}.organization.seat_assigned`);
    expect(messages.at(-1)?.subject).toBe(`evt.${orgId}.seats.seat_assigned`);
    expect(messages[0]?.payload).toMatchObject({ id: events[0]!.id, orgId, position: events[0]!.position.toString() });
    expect(await checkpointRow(sql, name)).toBe(last);
    expect(relay.status()).toMatchObject({ leader: true, checkpoint: last, published: events.length });
    await relay.close();
    await relay.close();
  });

  it('lets only the lock holder publish; a second relay takes over when the first closes', async () => {
    const name = `test-${randomUUID()}`;
    const orgId = randomUUID();
    await seedCheckpointAtHead(sql, store, name);
    const first = await newRelay(name);
    first.start();
    await waitFor(
      () => first.status().leader,
      10_000,
      () => 'first relay never became leader',
    );
    const second = await newRelay(name);
    second.start();

    const before = await append(orgId, 20);
    const lastBefore = before[before.length - 1]!.position;
    await waitFor(
      () => first.status().checkpoint >= lastBefore,
      20_000,
      () => 'first relay did not publish',
    );
    // Several of the follower's retry periods.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(second.status()).toMatchObject({ leader: false, published: 0 });

    await first.close();
    expect(first.status().leader).toBe(false);
    await waitFor(
      () => second.status().leader,
      10_000,
      () => 'second relay never took over',
    );

    const after = await append(orgId, 20);
    const lastAfter = after[after.length - 1]!.position;
    await waitFor(
      () => second.status().checkpoint >= lastAfter,
      20_000,
      () => 'second relay did not publish',
    );
    expect(second.status().published).toBe(after.length);

    const messages = await readOrgMessages(bus, orgId, before.length + after.length);
    expectExactlyOnceInOrder(messages, [...before, ...after]);
    expect(await checkpointRow(sql, name)).toBe(lastAfter);
    await second.close();
  });

  it('steps down when its lock connection dies, then takes the lock again and carries on', async () => {
    const name = `test-${randomUUID()}`;
    const orgId = randomUUID();
    await seedCheckpointAtHead(sql, store, name);
    const relay = await newRelay(name);
    relay.start();
    await waitFor(
      () => relay.status().leader,
      10_000,
      () => 'relay never became leader',
    );

    const { rows } = await sql.query<{ pid: number }>(
      `SELECT pid FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 2
          AND classid::text::bigint = $1 AND objid::text::bigint = (hashtext($2)::bigint & 4294967295)`,
      [RELAY_LOCK_NAMESPACE, lockKeyText(name)],
    );
    expect(rows).toHaveLength(1);
    await sql.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    await waitFor(
      () => !relay.status().leader,
      10_000,
      () => 'relay did not notice its lock connection died',
    );
    await waitFor(
      () => relay.status().leader,
      10_000,
      () => 'relay did not take the lock again',
    );

    const events = await append(orgId, 10);
    const last = events[events.length - 1]!.position;
    await waitFor(
      () => relay.status().checkpoint >= last,
      20_000,
      () => 'relay did not publish after re-taking the lock',
    );
    expectExactlyOnceInOrder(await readOrgMessages(bus, orgId, events.length), events);
    await relay.close();
  });
});
