/**
 * Integration-test plumbing: a fresh PostgreSQL database per test file (projection versions
 * and checkpoints are global to a database, so files must not share one), the real NATS bus,
 * and helpers that append domain events and publish them the way the relay does.
 * Unreachable servers fail the test with the server named; nothing is skipped.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { eventSubject, type EventBus } from '@quorum/bus';
import type { NatsBus } from '@quorum/bus/nats';
import { createKysely, createPgSqlDatabase, type Database, type SqlDatabase } from '@quorum/db';
import { currentVersionOf, streamIds, type DomainEvent } from '@quorum/domain';
import { streamCategory, toWireEvent, type NewEvent, type RecordedEvent } from '@quorum/eventstore';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { openNatsBus } from '@quorum/runtime';
import { sql as kysql } from 'kysely';

// Test files are the composition roots of their own runs: the only env reads in this service
// outside env.ts.
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://quorum:quorum@127.0.0.1:5432/quorum_test';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export interface TestDatabase {
  name: string;
  sql: SqlDatabase;
  store: PostgresEventStore;
  /** Closes the store and pool and drops the database. */
  drop(): Promise<void>;
}

/** Creates `quorum_proj_<random>` through the `quorum` maintenance database. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = new URL(DATABASE_URL);
  adminUrl.pathname = '/quorum';
  const admin = createPgSqlDatabase({
    connectionString: adminUrl.toString(),
    max: 1,
    applicationName: 'projector-test-admin',
  });
  const name = `quorum_proj_${randomBytes(6).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (err) {
    await admin.close();
    throw new Error(
      `PostgreSQL is not reachable (or refuses CREATE DATABASE) at ${adminUrl.host} as in ${DATABASE_URL}: ${(err as Error).message}; run scripts/services.sh`,
      { cause: err },
    );
  }
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  const sql = createPgSqlDatabase({ connectionString: url.toString(), max: 10, applicationName: 'projector-test' });
  const store = await PostgresEventStore.create(sql);
  let dropping: Promise<void> | undefined;
  return {
    name,
    sql,
    store,
    drop: () =>
      (dropping ??= (async () => {
        await store.close();
        await sql.close();
        try {
          await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await admin.close();
        }
      })()),
  };
}

/** The real NATS bus with the EVENTS stream ensured. */
export async function createTestBus(): Promise<NatsBus> {
  try {
    return await openNatsBus({
      servers: NATS_URL,
      name: 'projector-int-test',
      timeoutMs: 3_000,
      // A stream of this file's own: a durable on `evt.>` must see only this file's events, never
      // those other files (the relay's, the rebuild's) or earlier runs left on the shared server.
      namespace: `ptest${randomBytes(6).toString('hex')}`,
      // Every test makes uniquely named durables; the server drops them after an hour idle.
      consumerInactiveThresholdMs: 60 * 60 * 1_000,
    });
  } catch (err) {
    throw new Error(
      `NATS JetStream is not reachable at ${NATS_URL} (${(err as Error).message}); run scripts/services.sh`,
      {
        cause: err,
      },
    );
  }
}

export function testLogger(): Logger {
  return pino({ level: 'silent' });
}

export function uniquePrefix(): string {
  return `ptest-${randomBytes(5).toString('hex')}`;
}

export function testDb(sql: SqlDatabase) {
  return createKysely<Database>(sql);
}

/** A domain event as a `NewEvent` with fresh id and metadata for `orgId`. */
export function newEvent(orgId: string, event: DomainEvent, extra: { traceparent?: string } = {}): NewEvent {
  return {
    id: randomUUID(),
    type: event.type,
    version: currentVersionOf(event.type),
    data: event.data,
    metadata: {
      orgId,
      actor: { kind: 'user', id: randomUUID() },
      correlationId: randomUUID(),
      causationId: null,
      ...(extra.traceparent ? { traceparent: extra.traceparent } : {}),
    },
  };
}

/** Appends to the event's stream (by its category) and returns the recorded events. */
export async function append(
  store: PostgresEventStore,
  streamId: string,
  events: readonly NewEvent[],
): Promise<RecordedEvent[]> {
  await store.appendToStream(streamId, events);
  const ids = new Set(events.map((e) => e.id));
  const recorded = (await store.readStream(streamId)).filter((e) => ids.has(e.id));
  if (recorded.length !== events.length)
    throw new Error(`appended ${events.length} events, read back ${recorded.length}`);
  // Tests publish what they append themselves, standing in for the relay, which only ever
  // publishes below the store's read horizon. Any transaction open on the cluster (another
  // test's, another suite's) holds that horizon back, and a delivery above it would have the
  // projector look for a gap it cannot see yet; so wait, as the relay would, until it is visible.
  const last = recorded.at(-1)!.position;
  const deadline = Date.now() + 30_000;
  while ((await store.headPosition()) < last) {
    if (Date.now() > deadline) throw new Error(`appended position ${last} is still above the read horizon after 30 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return recorded;
}

export const orgStream = streamIds.organization;
export const seatsStream = streamIds.seats;

/**
 * Publishes recorded events as the relay does; fails unless every one was stored. With
 * `chainFrom`, each message names the one before it (`previousPosition`), the first naming
 * `chainFrom`, as the relay does for consecutive events of the store.
 */
export async function publish(
  bus: EventBus,
  events: readonly RecordedEvent[],
  options: { chainFrom?: bigint } = {},
): Promise<void> {
  let previous = options.chainFrom;
  const acks = await bus.publish(
    events.map((e) => {
      const message = {
        id: e.id,
        subject: eventSubject(e.metadata.orgId, streamCategory(e.streamId), e.type),
        position: e.position,
        ...(previous === undefined ? {} : { previousPosition: previous }),
        payload: toWireEvent(e),
      };
      if (previous !== undefined) previous = e.position;
      return message;
    }),
  );
  const failed = acks.find((a) => !a.ok);
  if (failed && !failed.ok) throw new Error(`publish failed: ${failed.error.message}`);
}

/** Rows of every read-model table for `orgIds` in `schema`, in a stable order. */
export async function snapshot(sql: SqlDatabase, schema: string, orgIds: readonly string[]) {
  const db = createKysely<Database>(sql).withSchema(schema);
  const ids = [...orgIds];
  return {
    organizations: await db
      .selectFrom('organizations')
      .where('org_id', 'in', ids)
      .selectAll()
      .orderBy('org_id')
      .execute(),
    entitlements: await db
      .selectFrom('entitlements')
      .where('org_id', 'in', ids)
      .selectAll()
      .orderBy('org_id')
      .execute(),
    members: await db
      .selectFrom('members')
      .where('org_id', 'in', ids)
      .selectAll()
      .orderBy('org_id')
      .orderBy('user_id')
      .execute(),
    invitations: await db
      .selectFrom('invitations')
      .where('org_id', 'in', ids)
      .selectAll()
      .orderBy('invitation_id')
      .execute(),
    seats: await db.selectFrom('seats').where('org_id', 'in', ids).selectAll().orderBy('org_id').execute(),
    seat_assignments: await db
      .selectFrom('seat_assignments')
      .where('org_id', 'in', ids)
      .selectAll()
      .orderBy('org_id')
      .orderBy('user_id')
      .execute(),
    event_log: await db
      .selectFrom('event_log')
      .where('org_id', 'in', ids)
      .selectAll()
      .orderBy('org_id')
      .orderBy('position')
      .execute(),
    usage_records: await db
      .selectFrom('usage_records')
      .where('org_id', 'in', ids)
      .selectAll()
      .select(kysql<string>`day::text`.as('day'))
      .orderBy('event_id')
      .execute(),
    usage_daily: await db
      .selectFrom('usage_daily')
      .where('org_id', 'in', ids)
      .selectAll()
      .select(kysql<string>`day::text`.as('day'))
      .orderBy('org_id')
      .orderBy('period')
      .orderBy('meter')
      .orderBy('usage_daily.day')
      .orderBy('host_user_id')
      .orderBy('session_id')
      .execute(),
    usage_thresholds: await db
      .selectFrom('usage_thresholds')
      .where('org_id', 'in', ids)
      .selectAll()
      .orderBy('org_id')
      .orderBy('period')
      .orderBy('threshold')
      .execute(),
    seat_intervals: await db
      .selectFrom('seat_intervals')
      .where('org_id', 'in', ids)
      .selectAll()
      .orderBy('org_id')
      .orderBy('position')
      .execute(),
    seat_holdings: await db
      .selectFrom('seat_holdings')
      .where('org_id', 'in', ids)
      .selectAll()
      .orderBy('org_id')
      .orderBy('position')
      .execute(),
    billing_customers: await db
      .selectFrom('billing_customers')
      .where('org_id', 'in', ids)
      .selectAll()
      .orderBy('customer_id')
      .execute(),
    billing_invoices: await db
      .selectFrom('billing_invoices')
      .where('org_id', 'in', ids)
      .selectAll()
      .orderBy('invoice_id')
      .execute(),
    billing_reconciliations: await db
      .selectFrom('billing_reconciliations')
      .where('org_id', 'in', ids)
      .selectAll()
      .orderBy('org_id')
      .orderBy('period')
      .execute(),
    webhook_endpoints: await db
      .selectFrom('webhook_endpoints')
      .where('org_id', 'in', ids)
      .selectAll()
      .orderBy('org_id')
      .orderBy('id')
      .execute(),
  };
}

/** Events of a small organization's life: create (+ owner joined), invite, join, role change, seats, removal. */
export function orgScenario(orgId: string, at = new Date('2025-01-01T00:00:00.000Z')) {
  const ownerId = randomUUID();
  const memberId = randomUUID();
  const invitationId = randomUUID();
  const organization: NewEvent[] = [
    newEvent(orgId, {
      type: 'organization.created',
      data: {
        orgId,
        name: 'Acme',
        plan: 'pro',
        ownerUserId: ownerId,
        ownerEmail: 'owner@acme.test',
        trialEndsAt: new Date(at.getTime() + 14 * 86_400_000).toISOString(),
      },
    }),
    newEvent(orgId, {
      type: 'member.joined',
      data: { userId: ownerId, email: 'owner@acme.test', role: 'owner', invitationId: null },
    }),
    newEvent(orgId, {
      type: 'member.invited',
      data: {
        invitationId,
        email: 'dev@acme.test',
        role: 'member',
        invitedBy: ownerId,
        expiresAt: new Date(at.getTime() + 7 * 86_400_000).toISOString(),
      },
    }),
    newEvent(orgId, {
      type: 'member.joined',
      data: { userId: memberId, email: 'dev@acme.test', role: 'member', invitationId },
    }),
    newEvent(orgId, { type: 'member.role_changed', data: { userId: memberId, from: 'member', to: 'admin' } }),
  ];
  const seats: NewEvent[] = [
    newEvent(orgId, { type: 'seats.purchased', data: { quantity: 5, total: 5 } }),
    newEvent(orgId, { type: 'seat.assigned', data: { userId: ownerId } }),
    newEvent(orgId, { type: 'seat.assigned', data: { userId: memberId } }),
  ];
  const removal = {
    seats: [newEvent(orgId, { type: 'seat.unassigned', data: { userId: memberId, reason: 'member_removed' } })],
    organization: [newEvent(orgId, { type: 'member.removed', data: { userId: memberId } })],
  };
  return { ownerId, memberId, invitationId, organization, seats, removal };
}

/** Appends {@link orgScenario} in the order the gateway would, returning events in position order. */
export async function appendScenario(store: PostgresEventStore, orgId: string) {
  const s = orgScenario(orgId);
  const recorded = [
    ...(await append(store, orgStream(orgId), s.organization)),
    ...(await append(store, seatsStream(orgId), s.seats)),
    ...(await append(store, seatsStream(orgId), s.removal.seats)),
    ...(await append(store, orgStream(orgId), s.removal.organization)),
  ];
  return { ...s, recorded };
}
