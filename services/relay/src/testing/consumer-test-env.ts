/**
 * What the integration tests of a bus consumer (metering, billing) share: real PostgreSQL and
 * NATS (failing, never skipping, when one is down), a database and a NATS namespace of the test
 * file's own, and a relay publishing the store's new events into that namespace.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { NatsBus } from '@quorum/bus/nats';
import { createPgSqlDatabase, migratePublicSchema, type SqlDatabase } from '@quorum/db';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import pg from 'pg';
import { pino } from 'pino';
import { Relay } from '../relay';

// The test files are the composition roots of their own runs: the only env reads here.
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://quorum:quorum@127.0.0.1:5432/quorum_test';
export const TEST_NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export const logger = pino({ level: 'warn' });

export interface ConsumerTestEnv {
  sql: SqlDatabase;
  store: PostgresEventStore;
  /** A bus on this file's own namespace. */
  bus: NatsBus;
  namespace: string;
  relay: Relay;
  /** This file's database, for the processes it starts. */
  databaseUrl: string;
  close(): Promise<void>;
}

/**
 * A database of this file's own (a consumer's tables, and any timers over them, are then this
 * file's alone), a fresh NATS namespace, and a relay publishing from the start. `label` names the
 * namespace and the database (`quorum_<prefix>_<hex>`).
 */
export async function openConsumerTestEnv(label: string, prefix = 'consumer'): Promise<ConsumerTestEnv> {
  const adminUrl = new URL(TEST_DATABASE_URL);
  adminUrl.pathname = '/quorum';
  const admin = new pg.Client({ connectionString: adminUrl.toString(), connectionTimeoutMillis: 5_000 });
  const name = `quorum_${prefix}_${randomBytes(6).toString('hex')}`;
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable (or refuses CREATE DATABASE) at ${adminUrl.host}; run scripts/services.sh`,
      {
        cause: err,
      },
    );
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const sql = createPgSqlDatabase({ connectionString: databaseUrl, max: 6 });
  await migratePublicSchema(sql);
  const store = await PostgresEventStore.create(sql);
  const namespace = `${label}-${randomUUID().slice(0, 8)}`;
  let bus: NatsBus;
  try {
    bus = await NatsBus.create({ servers: TEST_NATS_URL, name: label, namespace, timeoutMs: 3_000 });
  } catch (err) {
    throw new Error(`NATS JetStream is not reachable at ${TEST_NATS_URL}; run scripts/services.sh`, { cause: err });
  }
  await bus.ensureStream();
  const relay = await Relay.create({ store, bus, sql, logger, name: `${prefix}-test`, leaderRetryMs: 200 });
  relay.start();
  return {
    sql,
    store,
    bus,
    namespace,
    relay,
    databaseUrl,
    async close() {
      await relay.close();
      await bus.deleteStream();
      await bus.close();
      await store.close();
      await sql.close();
      const drop = new pg.Client({ connectionString: adminUrl.toString() });
      await drop.connect();
      try {
        await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await drop.end();
      }
    },
  };
}

/** Resolves once `condition` holds; fails after `timeoutMs` with what `describe` says. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describe: () => string | Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
