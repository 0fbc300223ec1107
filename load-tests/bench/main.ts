/**
 * `npm run bench`: (a) event store appends vs plain INSERTs, (b) command-to-read-model lag
 * at a steady rate over HTTP through NATS, (c) projection rebuild throughput, (d) metering's
 * usage lag under a steady stream of session events, (e) usage.summary and the CSV export over a
 * month of a million usage events, (f) webhook delivery from an append to 50 endpoints' receivers,
 * (g) 1,000 `/v1` event streams of one organization at 500 events/s. Prints a table
 * and writes docs/benchmarks.md (the k6 section of an existing file is kept).
 *
 * Env: BENCH_DATABASE_URL (admin URL; each part uses its own fresh database), NATS_URL,
 * BENCH_ONLY=append,lag,rebuild,metering (subset), BENCH_LAG_RATE, BENCH_LAG_SECONDS,
 * BENCH_CAPACITY_SECONDS (the capacity search's budget), BENCH_CAPACITY_STEP_SECONDS,
 * BENCH_LOADGEN_SECONDS (the outside generator's run), VEGETA_BIN (else scripts/vegeta.sh's cache),
 * BENCH_METERING_RATE, BENCH_METERING_SECONDS, BENCH_USAGE_MEETINGS (meetings of the big organization),
 * BENCH_WEBHOOKS_RATE, BENCH_WEBHOOKS_SECONDS, BENCH_WEBHOOKS_ENDPOINTS,
 * BENCH_SSE_STREAMS, BENCH_SSE_RATE, BENCH_SSE_SECONDS ((g): event streams fanned out),
 * BENCH_REBUILD_PARTITIONS, BENCH_REBUILD_BATCH_SIZE ((c): transactions per batch and events per
 * batch; rebuildProjection's defaults otherwise).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import pgDriver from 'pg';
import { runAppendBench, runInsertBaseline, type AppendBenchResult } from './append.bench';
import { describeMachine, readDoc } from './bench-doc';
import type { InsertBaseline } from './capacity-doc';
import { runCapacityBench, type CapacityBenchResult } from './capacity.bench';
import { findVegeta } from './load-generator';
import { benchTables, printBenchTables, renderBenchmarksDoc, type BenchMachine } from './benchmarks-doc';
import { BENCH_DATABASE_URL, NATS_URL, postgresInfo } from './env';
import { runLagBench, type LagBenchResult } from './lag.bench';
import { runMeteringBench, type MeteringBenchResult } from './metering.bench';
import { runUsageReadBench, type UsageReadBenchResult } from './usage-read.bench';
import { runRebuildBench, type RebuildBenchResult } from './rebuild.bench';
import { runSseBench, type SseBenchResult } from './sse.bench';
import { runWebhooksBench, type WebhooksBenchResult } from './webhooks.bench';
import { sleep } from './stats';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = `${ROOT}docs/benchmarks.md`;

const only = new Set(
  (process.env.BENCH_ONLY ?? 'append,lag,rebuild,metering,usage,webhooks,sse').split(',').map((s) => s.trim()),
);
const log = (line: string) => process.stdout.write(`${line}\n`);

async function natsVersion(): Promise<string> {
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 3_000 });
    const v = nc.info?.version ?? '?';
    await nc.close();
    return `nats-server ${v}`;
  } catch (err) {
    return `unreachable (${(err as Error).message})`;
  }
}

const started = new Date();
const pg = await postgresInfo();
const machine: BenchMachine = {
  ...describeMachine('npm run bench', started),
  postgres: pg.version,
  postgresSettings: pg.settings,
  nats: await natsVersion(),
};
log(`Quorum benchmarks — ${machine.date}`);
log(
  `${machine.nproc} cores (${machine.cpu}), ${machine.ramGiB} GiB, ${machine.node}, ${machine.postgres}, ${machine.nats}`,
);
log(`load average before start: ${machine.loadAverage}\n`);

/**
 * Lets Postgres finish the previous part's work (a checkpoint of its writes, autovacuum of its
 * tables) before the next part starts, so no part pays for another.
 */
async function quiesce(): Promise<void> {
  const client = new pgDriver.Client({ connectionString: BENCH_DATABASE_URL });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
    for (let i = 0; i < 30; i++) {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`,
      );
      if (Number(rows[0]!.n) === 0) break;
      await sleep(1_000);
    }
  } finally {
    await client.end();
  }
  await sleep(2_000);
}

let append: AppendBenchResult | undefined;
let lag: LagBenchResult | undefined;
let capacity: CapacityBenchResult | undefined;
let baseline: InsertBaseline | undefined;
let rebuild: RebuildBenchResult | undefined;
let metering: MeteringBenchResult | undefined;
let usage: UsageReadBenchResult | undefined;
let webhooks: WebhooksBenchResult | undefined;
let sse: SseBenchResult | undefined;
const failures: string[] = [];

if (only.has('append')) {
  log('(a) event store appends vs plain INSERTs');
  append = await runAppendBench({ log }).catch((err: unknown) => {
    failures.push(`(a) failed: ${(err as Error).stack ?? String(err)}`);
    return undefined;
  });
}
if (only.has('lag') || only.has('rebuild')) {
  const c1 = append?.levels.find((l) => l.concurrency === 1)?.baseline.opsPerSec;
  const c32 = append?.levels.find((l) => l.concurrency === 32)?.baseline.opsPerSec;
  if (c1 !== undefined && c32 !== undefined) baseline = { source: 'part (a)', c1, c32 };
  else {
    // (b) and (c) are set beside plain INSERTs of the same run: without (a), measure those alone.
    log('plain-INSERT baseline at concurrency 1 and 32 (part (a) did not run)');
    const levels = await runInsertBaseline({ concurrencies: [1, 32] }).catch((err: unknown) => {
      failures.push(`baseline failed: ${(err as Error).stack ?? String(err)}`);
      return [];
    });
    const at = (c: number) => levels.find((l) => l.concurrency === c)?.opsPerSec;
    baseline = { source: 'measured alone', c1: at(1), c32: at(32) };
    log(`  c=1: ${Math.round(at(1) ?? Number.NaN)}/s, c=32: ${Math.round(at(32) ?? Number.NaN)}/s`);
  }
}
if (only.has('lag')) {
  // Before the fixed 500/s run: that run overloads Quorum and Postgres, and its aftermath
  // (a backlog drained, tables vacuumed) failed the search's first steps even after quiesce().
  await quiesce();
  const budget = Number(process.env.BENCH_CAPACITY_SECONDS ?? 240);
  const step = Number(process.env.BENCH_CAPACITY_STEP_SECONDS ?? 8);
  log(`(b) capacity: steps of ${step} s from 50 commands/s, within ${budget} s; CPU per command at 250/s`);
  capacity = await runCapacityBench({
    log,
    budgetMs: budget * 1_000,
    stepMs: step * 1_000,
    vegeta: findVegeta(),
    loadGeneratorSeconds: Number(process.env.BENCH_LOADGEN_SECONDS ?? 30),
  }).catch((err: unknown) => {
    failures.push(`(b) capacity failed: ${(err as Error).stack ?? String(err)}`);
    return undefined;
  });
}
if (only.has('lag')) {
  await quiesce();
  const rate = Number(process.env.BENCH_LAG_RATE ?? 500);
  const seconds = Number(process.env.BENCH_LAG_SECONDS ?? 20);
  log(`(b) command-to-read-model lag at ${rate} commands/s for ${seconds} s`);
  lag = await runLagBench({ log, rate, durationMs: seconds * 1_000 }).catch((err: unknown) => {
    failures.push(`(b) failed: ${(err as Error).stack ?? String(err)}`);
    return undefined;
  });
}
if (only.has('rebuild')) {
  if (append || lag || capacity) await quiesce();
  log('(c) rebuild throughput');
  const partitions = process.env.BENCH_REBUILD_PARTITIONS;
  const batchSize = process.env.BENCH_REBUILD_BATCH_SIZE;
  rebuild = await runRebuildBench({
    log,
    ...(partitions ? { partitions: Number(partitions) } : {}),
    ...(batchSize ? { batchSize: Number(batchSize) } : {}),
  }).catch((err: unknown) => {
    failures.push(`(c) failed: ${(err as Error).stack ?? String(err)}`);
    return undefined;
  });
}

if (only.has('metering')) {
  if (append || lag || capacity || rebuild) await quiesce();
  const rate = Number(process.env.BENCH_METERING_RATE ?? 500);
  const seconds = Number(process.env.BENCH_METERING_SECONDS ?? 20);
  log(`(d) metering at ${rate} session events/s for ${seconds} s`);
  metering = await runMeteringBench({ log, rate, durationMs: seconds * 1_000 }).catch((err: unknown) => {
    failures.push(`(d) failed: ${(err as Error).stack ?? String(err)}`);
    return undefined;
  });
}

if (only.has('usage')) {
  if (append || lag || capacity || rebuild || metering) await quiesce();
  const bigMeetings = Number(process.env.BENCH_USAGE_MEETINGS ?? 100_000);
  log(`(e) usage reads over ${bigMeetings} meetings of one organization and 999 others`);
  usage = await runUsageReadBench({ log, bigMeetings }).catch((err: unknown) => {
    failures.push(`(e) failed: ${(err as Error).stack ?? String(err)}`);
    return undefined;
  });
}

if (only.has('webhooks')) {
  if (append || lag || capacity || rebuild || metering || usage) await quiesce();
  const rate = Number(process.env.BENCH_WEBHOOKS_RATE ?? 500);
  const seconds = Number(process.env.BENCH_WEBHOOKS_SECONDS ?? 20);
  const endpoints = Number(process.env.BENCH_WEBHOOKS_ENDPOINTS ?? 50);
  log(`(f) webhook delivery at ${rate} events/s to ${endpoints} endpoints for ${seconds} s`);
  webhooks = await runWebhooksBench({ log, rate, durationMs: seconds * 1_000, endpoints }).catch((err: unknown) => {
    failures.push(`(f) failed: ${(err as Error).stack ?? String(err)}`);
    return undefined;
  });
}

if (only.has('sse')) {
  if (append || lag || capacity || rebuild || metering || usage || webhooks) await quiesce();
  const streams = Number(process.env.BENCH_SSE_STREAMS ?? 1_000);
  const rate = Number(process.env.BENCH_SSE_RATE ?? 500);
  const seconds = Number(process.env.BENCH_SSE_SECONDS ?? 30);
  log(`(g) ${streams} /v1 event streams of one organization at ${rate} events/s for ${seconds} s`);
  sse = await runSseBench({ log, streams, rate, durationMs: seconds * 1_000 }).catch((err: unknown) => {
    failures.push(`(g) failed: ${(err as Error).stack ?? String(err)}`);
    return undefined;
  });
}

const results = { append, lag, capacity, baseline, rebuild, metering, usage, webhooks, sse };
const tables = benchTables(results, only);
printBenchTables(results, tables, log);
for (const f of failures) log(`\n${f}`);

writeFileSync(DOC, renderBenchmarksDoc(machine, results, tables, readDoc(DOC)));
log(`\nwrote ${DOC}`);
process.exit(failures.length ? 1 : 0);
