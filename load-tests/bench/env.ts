/**
 * Where the benchmarks connect, and a fresh database per use (`quorum_bench_<hex>`), created
 * and dropped through the admin URL like test/support/test-database.ts.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import pg from 'pg';

export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://quorum:quorum@127.0.0.1:5432/quorum';
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: BENCH_DATABASE_URL, connectionTimeoutMillis: 5_000 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${BENCH_DATABASE_URL} (${(err as Error).message}); run scripts/services.sh`,
      { cause: err },
    );
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates `quorum_bench_<hex>`; `drop()` removes it (forcing out leftover sessions). */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `quorum_bench_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(BENCH_DATABASE_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** `SELECT version()` and a few settings that shape the numbers. */
export async function postgresInfo(): Promise<{ version: string; settings: string }> {
  return admin(async (c) => {
    const v = await c.query<{ server_version: string }>('SHOW server_version');
    const rows = await c.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings
        WHERE name IN ('synchronous_commit', 'fsync', 'shared_buffers', 'max_connections', 'wal_level')
        ORDER BY name`,
    );
    return {
      version: `PostgreSQL ${v.rows[0]?.server_version ?? '?'}`,
      settings: rows.rows.map((r) => `${r.name}=${r.setting}${r.unit ? r.unit : ''}`).join(', '),
    };
  });
}

/** Deletes a bench child's JetStream stream: idle bench streams slow a shared NATS down. */
export async function deleteBusStream(namespace: string): Promise<void> {
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 3_000 });
    const jsm = await nc.jetstreamManager();
    await jsm.streams
      .delete(`EVENTS_${namespace}`)
      .catch((err: Error) => process.stderr.write(`could not delete the bench stream: ${err.message}\n`));
    await nc.close();
  } catch (err) {
    // A leftover stream only costs disk; say so rather than fail a finished measurement.
    process.stderr.write(`could not reach NATS to delete the bench stream: ${(err as Error).message}\n`);
  }
}
