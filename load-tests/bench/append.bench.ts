/**
 * (a) Event store appends against a baseline of plain INSERTs.
 *
 * Both run in one fresh database through the same `pg` pool (`createPgSqlDatabase`, max 40),
 * at the same concurrency, for the same duration. Adapter: each worker appends one event per
 * call to a stream of its own with the exact expected revision (as a command does). Baseline:
 * one autocommit `INSERT` per operation into a table shaped like `es_events` (bigserial, uuid,
 * stream id, jsonb). The adapter runs twice: as Quorum runs it (group commit: appends that queue
 * behind others go as one statement) and with group commit off (each append alone), the
 * before and after of that change in one run. Each level is warmed up briefly first, and the two kinds alternate per
 * level so drift (autovacuum, cache) hits both alike.
 */
import { randomUUID } from 'node:crypto';
import { createPgSqlDatabase, type SqlDatabase } from '@quorum/db';
import type { EventMetadata, NewEvent } from '@quorum/eventstore';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { createBenchDatabase } from './env';
import { summarize, type Summary } from './stats';

export interface AppendLevelResult {
  concurrency: number;
  adapter: { opsPerSec: number; latency: Summary; ops: number };
  /** The same adapter with group commit off: every append its own statement and transaction. */
  alone: { opsPerSec: number; latency: Summary; ops: number };
  baseline: { opsPerSec: number; latency: Summary; ops: number };
  /** adapter / baseline throughput. */
  ratio: number;
}

export interface AppendBenchResult {
  levels: AppendLevelResult[];
  durationMs: number;
  warmupMs: number;
  poolMax: number;
  /** The target: adapter ≥ 40% of the baseline at concurrency 32. */
  target: { concurrency: number; minRatio: number; ratio: number; pass: boolean };
}

export interface AppendBenchOptions {
  levels?: number[];
  durationMs?: number;
  warmupMs?: number;
  log?: (line: string) => void;
}

const BASELINE_SQL = `
CREATE TABLE bench_baseline (
  position    bigserial PRIMARY KEY,
  event_id    uuid NOT NULL UNIQUE,
  stream_id   text NOT NULL,
  type        text NOT NULL,
  data        jsonb NOT NULL,
  metadata    jsonb NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now()
)`;

const POOL_MAX = 40;

function metadataFor(orgId: string, userId: string): EventMetadata {
  return { orgId, actor: { kind: 'user', id: userId }, correlationId: randomUUID(), causationId: null };
}

/** Runs `workers` loops of `op` until `durationMs` has passed; returns per-op latencies. */
async function drive(workers: number, durationMs: number, op: (worker: number) => Promise<void>) {
  const latencies: number[] = [];
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await op(w);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - started;
  return { ops: latencies.length, opsPerSec: (latencies.length / elapsed) * 1_000, latency: summarize(latencies) };
}

/** One worker per stream, each an autocommit INSERT into `bench_baseline` per call. */
function baselineOp(db: SqlDatabase, concurrency: number, phase: string) {
  const streams = Array.from({ length: concurrency }, () => {
    const orgId = randomUUID();
    return { id: `seats-${orgId}-${phase}`, orgId, userId: randomUUID(), total: 0 };
  });
  return async (w: number) => {
    const s = streams[w]!;
    await db.query(
      'INSERT INTO bench_baseline (event_id, stream_id, type, data, metadata) VALUES ($1, $2, $3, $4, $5)',
      [
        randomUUID(),
        s.id,
        'seats.purchased',
        JSON.stringify({ quantity: 1, total: ++s.total }),
        JSON.stringify(metadataFor(s.orgId, s.userId)),
      ],
    );
  };
}

export interface InsertBaselineResult {
  concurrency: number;
  opsPerSec: number;
  latency: Summary;
}

/**
 * The plain-INSERT baseline of (a) alone, for a run that compares against it without running
 * (a): the same table, pool, warm-up and duration.
 */
export async function runInsertBaseline(options: {
  concurrencies: number[];
  durationMs?: number;
  warmupMs?: number;
}): Promise<InsertBaselineResult[]> {
  const durationMs = options.durationMs ?? 5_000;
  const warmupMs = options.warmupMs ?? 750;
  const database = await createBenchDatabase();
  const db = createPgSqlDatabase({ connectionString: database.url, max: POOL_MAX, applicationName: 'quorum-bench' });
  try {
    await db.exec(BASELINE_SQL);
    const results: InsertBaselineResult[] = [];
    for (const concurrency of options.concurrencies) {
      await drive(concurrency, warmupMs, baselineOp(db, concurrency, 'warm'));
      const r = await drive(concurrency, durationMs, baselineOp(db, concurrency, 'run'));
      results.push({ concurrency, opsPerSec: r.opsPerSec, latency: r.latency });
    }
    return results;
  } finally {
    await db.close();
    await database.drop();
  }
}

export async function runAppendBench(options: AppendBenchOptions = {}): Promise<AppendBenchResult> {
  const levels = options.levels ?? [1, 8, 32];
  const durationMs = options.durationMs ?? 5_000;
  const warmupMs = options.warmupMs ?? 750;
  const log = options.log ?? (() => {});
  const database = await createBenchDatabase();
  let sql: SqlDatabase | undefined;
  let store: PostgresEventStore | undefined;
  let aloneStore: PostgresEventStore | undefined;
  try {
    sql = createPgSqlDatabase({ connectionString: database.url, max: POOL_MAX, applicationName: 'quorum-bench' });
    store = await PostgresEventStore.create(sql);
    aloneStore = await PostgresEventStore.create(sql, { migrate: false, groupCommit: false });
    await sql.exec(BASELINE_SQL);
    const db = sql;

    const results: AppendLevelResult[] = [];
    for (const concurrency of levels) {
      // Adapter workers: one stream each per phase, exact expected revisions.
      const makeAdapterOp = (es: PostgresEventStore, phase: string) => {
        const streams = Array.from({ length: concurrency }, () => {
          const orgId = randomUUID();
          return { id: `seats-${orgId}-${phase}`, orgId, userId: randomUUID(), next: -1n, total: 0 };
        });
        return async (w: number) => {
          const s = streams[w]!;
          const event: NewEvent = {
            id: randomUUID(),
            type: 'seats.purchased',
            version: 1,
            data: { quantity: 1, total: ++s.total },
            metadata: metadataFor(s.orgId, s.userId),
          };
          const r = await es.appendToStream(s.id, [event], { expectedRevision: s.next < 0n ? 'no_stream' : s.next });
          s.next = r.nextExpectedRevision;
        };
      };
      await drive(concurrency, warmupMs, baselineOp(db, concurrency, 'warm'));
      const baseline = await drive(concurrency, durationMs, baselineOp(db, concurrency, 'run'));
      await drive(concurrency, warmupMs, makeAdapterOp(store, 'warm'));
      const adapter = await drive(concurrency, durationMs, makeAdapterOp(store, 'run'));
      await drive(concurrency, warmupMs, makeAdapterOp(aloneStore, 'warm-alone'));
      const alone = await drive(concurrency, durationMs, makeAdapterOp(aloneStore, 'run-alone'));
      const ratio = adapter.opsPerSec / baseline.opsPerSec;
      results.push({ concurrency, adapter, alone, baseline, ratio });
      log(
        `  c=${concurrency}: adapter ${Math.round(adapter.opsPerSec)}/s (one by one ${Math.round(alone.opsPerSec)}/s), baseline ${Math.round(baseline.opsPerSec)}/s, ratio ${(ratio * 100).toFixed(0)}%`,
      );
    }
    const top = results.find((r) => r.concurrency === 32) ?? results[results.length - 1]!;
    return {
      levels: results,
      durationMs,
      warmupMs,
      poolMax: POOL_MAX,
      target: { concurrency: top.concurrency, minRatio: 0.4, ratio: top.ratio, pass: top.ratio >= 0.4 },
    };
  } finally {
    await store?.close();
    await aloneStore?.close();
    await sql?.close();
    await database.drop();
  }
}
