/**
 * Shared by the relay's integration tests: the servers they need (failing, never skipping, when
 * one is down), and reading back what reached JetStream.
 */
import { randomUUID } from 'node:crypto';
import { orgSubjectFilter, type DeliveredMessage } from '@quorum/bus';
import type { NatsBus } from '@quorum/bus/nats';
import type { SqlDatabase } from '@quorum/db';
import type { EventStore, NewEvent } from '@quorum/eventstore';
import { openNatsBus } from '@quorum/runtime';
import pg from 'pg';

// The test files are the composition roots of their own runs: the only env reads here.
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://quorum:quorum@127.0.0.1:5432/quorum_test';
export const TEST_NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export async function requirePostgres(): Promise<string> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_DATABASE_URL} (${(err as Error).message}); run scripts/services.sh`,
      {
        cause: err,
      },
    );
  } finally {
    await client.end().catch((err: Error) => process.emitWarning(`closing probe client: ${err.message}`));
  }
  return TEST_DATABASE_URL;
}

/** A bus for reading back; its durables are dropped by the server after an hour unused. */
export async function requireNats(name: string): Promise<NatsBus> {
  try {
    return await openNatsBus({
      servers: TEST_NATS_URL,
      name,
      timeoutMs: 3_000,
      consumerInactiveThresholdMs: 3_600_000,
    });
  } catch (err) {
    throw new Error(
      `NATS JetStream is not reachable at ${TEST_NATS_URL} (${(err as Error).message}); run scripts/services.sh`,
      {
        cause: err,
      },
    );
  }
}

/**
 * Starts a fresh relay name at the store's head, so a test publishes only its own events
 * instead of the whole shared store's history.
 */
export async function seedCheckpointAtHead(sql: SqlDatabase, store: EventStore, name: string): Promise<bigint> {
  const head = await store.headPosition();
  await sql.query('INSERT INTO relay_checkpoints (name, position) VALUES ($1, $2)', [name, head.toString()]);
  return head;
}

export async function checkpointRow(sql: SqlDatabase, name: string): Promise<bigint | undefined> {
  const { rows } = await sql.query<{ position: string }>('SELECT position FROM relay_checkpoints WHERE name = $1', [
    name,
  ]);
  return rows[0] === undefined ? undefined : BigInt(rows[0].position);
}

export function makeEvents(orgId: string, count: number, type = 'seat.assigned'): NewEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    id: randomUUID(),
    type,
    version: 1,
    data: { index },
    metadata: { orgId, actor: { kind: 'system', id: 'relay-test' }, correlationId: randomUUID(), causationId: null },
  }));
}

/**
 * Reads every message on `evt.<orgId>.>` with a new durable: waits until `expected` arrived,
 * then `settleMs` longer so a duplicate behind them would be seen too.
 */
export async function readOrgMessages(
  bus: NatsBus,
  orgId: string,
  expected: number,
  settleMs = 1_000,
): Promise<DeliveredMessage[]> {
  const received: DeliveredMessage[] = [];
  const consumer = await bus.consume({
    durableName: `relay-test-${randomUUID()}`,
    filterSubjects: [orgSubjectFilter(orgId)],
    handler: async (message) => {
      received.push(message);
    },
  });
  try {
    await waitFor(
      () => received.length >= expected,
      30_000,
      () => `only ${received.length} of ${expected} messages arrived on evt.${orgId}.>`,
    );
    await new Promise((resolve) => setTimeout(resolve, settleMs));
  } finally {
    await consumer.close();
  }
  return received;
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
