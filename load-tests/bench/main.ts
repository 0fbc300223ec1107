/**
 * `npm run bench`: (a) event store appends vs plain INSERTs, (b) command-to-read-model lag
 * at a steady rate over HTTP through NATS, (c) projection rebuild throughput. Prints a table
 * and writes docs/benchmarks.md (the k6 section of an existing file is kept).
 *
 * Env: BENCH_DATABASE_URL (admin URL; each part uses its own fresh database), NATS_URL,
 * BENCH_ONLY=append,lag,rebuild (subset), BENCH_LAG_RATE, BENCH_LAG_SECONDS.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import pgDriver from 'pg';
import { runAppendBench, type AppendBenchResult } from './append.bench';
import { BENCH_DATABASE_URL, NATS_URL, postgresInfo } from './env';
import { runLagBench, type LagBenchResult } from './lag.bench';
import { runRebuildBench, type RebuildBenchResult } from './rebuild.bench';
import { int, markdownTable, ms, pct, sleep, textTable, verdict, type Row } from './stats';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = `${ROOT}docs/benchmarks.md`;
const K6_START = '<!-- k6:start -->';
const K6_END = '<!-- k6:end -->';

const only = new Set((process.env.BENCH_ONLY ?? 'append,lag,rebuild').split(',').map((s) => s.trim()));
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

function cpuModel(): string {
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m?.[1]?.trim() ?? os.cpus()[0]?.model ?? '?';
  } catch {
    return os.cpus()[0]?.model ?? '?';
  }
}

const redactUrl = (u: string) => u.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');

const started = new Date();
const pg = await postgresInfo();
const machine = {
  date: started.toISOString(),
  command: 'npm run bench',
  nproc: os.availableParallelism(),
  ramGiB: (os.totalmem() / 2 ** 30).toFixed(1),
  cpu: cpuModel(),
  kernel: `${os.type()} ${os.release()}`,
  node: process.version,
  postgres: pg.version,
  postgresSettings: pg.settings,
  nats: await natsVersion(),
  database: redactUrl(BENCH_DATABASE_URL),
  natsUrl: NATS_URL,
  loadAverage: os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' '),
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
let rebuild: RebuildBenchResult | undefined;
const failures: string[] = [];

if (only.has('append')) {
  log('(a) event store appends vs plain INSERTs');
  append = await runAppendBench({ log }).catch((err: unknown) => {
    failures.push(`(a) failed: ${(err as Error).stack ?? String(err)}`);
    return undefined;
  });
}
if (only.has('lag')) {
  if (append) await quiesce();
  const rate = Number(process.env.BENCH_LAG_RATE ?? 500);
  const seconds = Number(process.env.BENCH_LAG_SECONDS ?? 20);
  log(`(b) command-to-read-model lag at ${rate} commands/s for ${seconds} s`);
  lag = await runLagBench({ log, rate, durationMs: seconds * 1_000 }).catch((err: unknown) => {
    failures.push(`(b) failed: ${(err as Error).stack ?? String(err)}`);
    return undefined;
  });
}
if (only.has('rebuild')) {
  if (append || lag) await quiesce();
  log('(c) rebuild throughput');
  rebuild = await runRebuildBench({ log }).catch((err: unknown) => {
    failures.push(`(c) failed: ${(err as Error).stack ?? String(err)}`);
    return undefined;
  });
}

// ---- tables -------------------------------------------------------------------------------
const appendHeader: Row = [
  'concurrency',
  'adapter appends/s',
  'p50',
  'p99',
  'baseline INSERTs/s',
  'p50',
  'p99',
  'adapter / baseline',
];
const appendRows: Row[] = (append?.levels ?? []).map((l) => [
  String(l.concurrency),
  int(l.adapter.opsPerSec),
  ms(l.adapter.latency.p50),
  ms(l.adapter.latency.p99),
  int(l.baseline.opsPerSec),
  ms(l.baseline.latency.p50),
  ms(l.baseline.latency.p99),
  pct(l.ratio),
]);

const lagHeader: Row = ['measure', 'value'];
const lagRows: Row[] = lag
  ? [
      ['commands sent', `${int(lag.commands)} (${lag.orgs} orgs, ${lag.users} users)`],
      [
        'rate target / achieved (sends)',
        `${lag.targetRate}/s / ${lag.achievedRate.toFixed(1)}/s${lag.target.rateKept ? '' : '  <- NOT KEPT'}`,
      ],
      [
        'send slip vs schedule p50 / p99 / max',
        `${ms(lag.scheduleSlip.p50)} / ${ms(lag.scheduleSlip.p99)} / ${ms(lag.scheduleSlip.max)}`,
      ],
      ['command latency p50 / p99', `${ms(lag.commandLatency.p50)} / ${ms(lag.commandLatency.p99)}`],
      [
        'lag p50 / p99 / max',
        `${ms(lag.lag.p50)} / ${ms(lag.lag.p99)} / ${ms(lag.lag.max)}  (${int(lag.lag.count)} measured, checkpoint probe every 2 ms)`,
      ],
      ['worst lag per second of the run (ms)', lag.worstLagBySecond.join(' ')],
      [
        'read-your-writes p50 / p99',
        `${ms(lag.readYourWrites.p50)} / ${ms(lag.readYourWrites.p99)}  (send to minPosition read answered, 1 command in 10)`,
      ],
      [
        'query-only overhead p50 / p99',
        `${ms(lag.queryOverhead.p50)} / ${ms(lag.queryOverhead.p99)}  (seats.get, applied position, idle)`,
      ],
      ['errors', `${lag.errors}${lag.errorSamples[0] ? ` — e.g. ${lag.errorSamples[0].slice(0, 110)}` : ''}`],
      [
        'CPU during load: Quorum child / generator',
        `${lag.childCpuPercent.toFixed(0)}% / ${lag.benchCpuPercent.toFixed(0)}% of one core`,
      ],
    ]
  : [];

const rebuildHeader: Row = ['measure', 'value'];
const rebuildRows: Row[] = rebuild
  ? [
      ['events (orgs)', `${int(rebuild.events)} (${int(rebuild.orgs)})`],
      [
        'append (set-up), 16 appenders',
        `${(rebuild.appendMs / 1000).toFixed(1)} s, ${int(rebuild.appendEventsPerSec)} events/s`,
      ],
      [
        'rebuild',
        `${(rebuild.rebuild.durationMs / 1000).toFixed(1)} s, ${int(rebuild.rebuild.eventsPerSecond)} events/s (batchSize ${rebuild.batchSize})`,
      ],
      [
        'SQL round trips (writes)',
        `${int(rebuild.profile.statements)}, ${rebuild.profile.statementsPerEvent.toFixed(2)} per event, ${(rebuild.profile.sqlMs / 1000).toFixed(1)} s in total`,
      ],
      ...rebuild.profile.top
        .slice(0, 5)
        .map((t): Row => [
          `  ${t.statement.slice(0, 48)}`,
          `${int(t.count)} × ${t.avgMs.toFixed(3)} ms = ${(t.totalMs / 1000).toFixed(1)} s`,
        ]),
      [
        'read model check',
        `${rebuild.check.ok ? 'ok' : 'MISMATCH'} (event_log ${int(rebuild.check.eventLog)}, members ${int(rebuild.check.members)}, assignments ${int(rebuild.check.assignments)}, dead letters ${rebuild.check.deadLetters})`,
      ],
    ]
  : [];

const targets: Row[] = [];
if (append)
  targets.push([
    '(a) adapter ≥ 40% of baseline at concurrency 32',
    pct(append.target.ratio),
    verdict(append.target.pass),
  ]);
else if (only.has('append')) targets.push(['(a) adapter ≥ 40% of baseline at concurrency 32', 'did not run', 'FAIL']);
if (lag) {
  targets.push([
    '(b) lag p99 < 100 ms at 500 commands/s, 0 errors',
    `${ms(lag.lag.p99)}, ${lag.errors} errors`,
    verdict(lag.target.pass),
  ]);
  targets.push([
    '(b) generator kept the rate (≥ 97%)',
    `${lag.achievedRate.toFixed(1)}/s`,
    verdict(lag.target.rateKept),
  ]);
} else if (only.has('lag')) targets.push(['(b) lag p99 < 100 ms', 'did not run', 'FAIL']);
if (rebuild)
  targets.push([
    '(c) rebuild ≥ 10,000 events/s',
    `${int(rebuild.rebuild.eventsPerSecond)} events/s`,
    verdict(rebuild.target.pass),
  ]);
else if (only.has('rebuild')) targets.push(['(c) rebuild ≥ 10,000 events/s', 'did not run', 'FAIL']);

log('');
if (append)
  log(
    `(a) appends, ${append.durationMs / 1000} s per measurement after ${append.warmupMs} ms warm-up, pool max ${append.poolMax}\n${textTable(appendHeader, appendRows)}\n`,
  );
if (lag) log(`(b) lag\n${textTable(lagHeader, lagRows)}\n`);
if (rebuild) log(`(c) rebuild\n${textTable(rebuildHeader, rebuildRows)}\n`);
log(textTable(['target', 'measured', 'result'], targets));
for (const f of failures) log(`\n${f}`);

// ---- docs/benchmarks.md -------------------------------------------------------------------
const previous = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
const k6Start = previous.indexOf(K6_START);
const k6End = previous.indexOf(K6_END);
const k6Section =
  k6Start >= 0 && k6End > k6Start
    ? previous.slice(k6Start, k6End + K6_END.length)
    : `${K6_START}\n_Not run yet: see load-tests/README.md._\n${K6_END}`;

const md = `# Benchmarks

Written by \`${machine.command}\` (load-tests/bench/main.ts); rerun it to refresh. Every figure
below comes from one run on the machine described here; loads target loopback only.

## Machine

| | |
|---|---|
| date | ${machine.date} |
| command | \`${machine.command}\` (from the repository root) |
| nproc | ${machine.nproc} |
| RAM | ${machine.ramGiB} GiB |
| CPU | ${machine.cpu} |
| kernel | ${machine.kernel} |
| Node | ${machine.node} |
| PostgreSQL | ${machine.postgres} (${machine.postgresSettings}) |
| NATS | ${machine.nats} |
| load average at start | ${machine.loadAverage} |

Postgres, NATS, the Quorum child process and the load generator all share these cores.

## Targets

${markdownTable(['target', 'measured', 'result'], targets)}

## (a) Event store appends vs plain INSERTs
${
  append
    ? `
\`PostgresEventStore\` over \`createPgSqlDatabase({ max: ${append.poolMax} })\` in a fresh database. Each worker
appends one event per call to its own stream with the exact expected revision. The baseline is one
autocommit \`INSERT\` per operation into a table shaped like \`es_events\` (bigserial, uuid, stream id,
jsonb data and metadata) through the same pool at the same concurrency. ${append.durationMs / 1000} s per
measurement after a ${append.warmupMs} ms warm-up.

${markdownTable(appendHeader, appendRows)}
`
    : '\n_Did not run._\n'
}
## (b) Command-to-read-model lag
${
  lag
    ? `
Quorum runs as a child process (\`node --import tsx services/quorum/src/main.ts\`, Postgres + NATS
JetStream, \`LOG_LEVEL=warn\`). Open loop: one command every ${(1000 / lag.targetRate).toFixed(1)} ms for ${lag.durationMs / 1000} s,
round-robin over ${lag.orgs} business organizations, alternating \`seats.purchase\` / \`seats.release\` of one
seat, over keep-alive HTTP. Lag = completion of \`seats.get?minPosition=<the command's position>\`
minus the time the command was sent (nothing subtracted); the query-only overhead row is the same
query on a position already applied, so most of it is also inside the lag.

${markdownTable(lagHeader, lagRows)}
${lag.errorSamples.length ? `\nFirst errors:\n\n${lag.errorSamples.map((e) => `- \`${e}\``).join('\n')}\n` : ''}`
    : '\n_Did not run._\n'
}
## (c) Rebuild throughput
${
  rebuild
    ? `
${int(rebuild.events)} events (${int(rebuild.orgs)} organizations × organization.created, member.invited/joined,
seats.purchased/released, seat.assigned) appended to a fresh database, then
\`rebuildProjection({ batchSize: ${rebuild.batchSize} })\` from \`@quorum/projector/rebuild\`. The statement profile is
client-side time per statement (round trip included) for the projection's writes; reads of \`$all\`
are not in it.

${markdownTable(rebuildHeader, rebuildRows)}
`
    : '\n_Did not run._\n'
}
## k6

${k6Section}
`;
writeFileSync(DOC, md);
log(`\nwrote ${DOC}`);
process.exit(failures.length ? 1 : 0);
