/**
 * The figures of `npm run bench`: its tables, as printed to the console and as
 * docs/benchmarks.md. The file's k6 block belongs to the k6 run and is carried over.
 */
import type { AppendBenchResult } from './append.bench';
import { machineTable, markedBlock, markers, type MachineFacts } from './bench-doc';
import {
  capacityRows,
  capacitySection,
  capacityTargets,
  loadGeneratorRows,
  rebuildRatioTarget,
  STEP_HEADER,
  stepRow,
  type InsertBaseline,
} from './capacity-doc';
import type { CapacityBenchResult } from './capacity.bench';
import type { LagBenchResult } from './lag.bench';
import type { MeteringBenchResult } from './metering.bench';
import type { UsageReadBenchResult } from './usage-read.bench';
import type { RebuildBenchResult } from './rebuild.bench';
import { SSE_HEADER, sseRows, sseSection, sseTargets } from './sse-doc';
import type { SseBenchResult } from './sse.bench';
import { webhooksRows, webhooksSection, webhooksTargets, type WebhooksBenchResult } from './webhooks.bench';
import { int, markdownTable, ms, pct, textTable, verdict, type Row } from './stats';

const K6 = markers('k6');

/** What each part returned; a part that did not run or failed is missing. */
export interface BenchResults {
  append?: AppendBenchResult | undefined;
  lag?: LagBenchResult | undefined;
  capacity?: CapacityBenchResult | undefined;
  /** The plain-INSERT baselines that (b)'s capacity and (c)'s rebuild are set beside. */
  baseline?: InsertBaseline | undefined;
  rebuild?: RebuildBenchResult | undefined;
  metering?: MeteringBenchResult | undefined;
  usage?: UsageReadBenchResult | undefined;
  webhooks?: WebhooksBenchResult | undefined;
  sse?: SseBenchResult | undefined;
}

export interface BenchMachine extends MachineFacts {
  postgres: string;
  postgresSettings: string;
  nats: string;
}

interface Table {
  header: Row;
  rows: Row[];
}

export interface BenchTables {
  append: Table;
  lag: Table;
  capacity: Table;
  steps: Table;
  loadGenerator: Table;
  rebuild: Table;
  metering: Table;
  usage: Table;
  webhooks: Table;
  sse: Table;
  targets: Row[];
}

/** `only`: the parts asked for; one of them without a result fails its target. */
export function benchTables(
  {
    append,
    lag,
    capacity,
    baseline = { source: 'not measured' },
    rebuild,
    metering,
    usage,
    webhooks,
    sse,
  }: BenchResults,
  only: ReadonlySet<string>,
): BenchTables {
  const appendHeader: Row = [
    'concurrency',
    'adapter appends/s',
    'p50',
    'p99',
    'baseline INSERTs/s',
    'p50',
    'p99',
    'adapter / baseline',
    'one by one appends/s',
    'p50',
    'p99',
    'one by one / baseline',
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
    int(l.alone.opsPerSec),
    ms(l.alone.latency.p50),
    ms(l.alone.latency.p99),
    pct(l.alone.opsPerSec / l.baseline.opsPerSec),
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
          `${(rebuild.rebuild.durationMs / 1000).toFixed(1)} s, ${int(rebuild.rebuild.eventsPerSecond)} events/s (batchSize ${rebuild.batchSize}, partitions ${rebuild.partitions})`,
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
          'plain INSERTs at concurrency 1, same run',
          baseline.c1
            ? `${int(baseline.c1)}/s (${baseline.source}); rebuild ${(rebuild.rebuild.eventsPerSecond / baseline.c1).toFixed(1)}× it`
            : 'not measured',
        ],
        [
          'read model check',
          `${rebuild.check.ok ? 'ok' : 'MISMATCH'} (event_log ${int(rebuild.check.eventLog)}, members ${int(rebuild.check.members)}, assignments ${int(rebuild.check.assignments)}, dead letters ${rebuild.check.deadLetters})`,
        ],
      ]
    : [];

  const meteringHeader: Row = ['measure', 'value'];
  const meteringRows: Row[] = metering
    ? [
        [
          'session events sent',
          `${int(metering.sessionEvents)} over ${metering.meetings} meetings at a time (${metering.achievedRate.toFixed(1)}/s of ${metering.targetRate}/s)`,
        ],
        [
          'usage lag p50 / p99 / max',
          `${ms(metering.usageLag.p50)} / ${ms(metering.usageLag.p99)} / ${ms(metering.usageLag.max)}  (${int(metering.usageLag.count)} leaves)`,
        ],
        [
          'baseline: bus delivery p50 / p99 / max',
          `${ms(metering.busLag.p50)} / ${ms(metering.busLag.p99)} / ${ms(metering.busLag.max)}  (${int(metering.busLag.count)} events)`,
        ],
        [
          'usage lag / bus delivery, p50 / p99',
          `${(metering.usageLag.p50 / metering.busLag.p50).toFixed(1)}× / ${(metering.usageLag.p99 / metering.busLag.p99).toFixed(1)}×`,
        ],
        ['usage events appended', int(metering.usageEvents)],
        ['leaves without usage after the drain', String(metering.missing)],
        [
          'participant seconds: streams / metered',
          `${int(metering.check.expectedParticipantSeconds)} / ${int(metering.check.meteredParticipantSeconds)} (${metering.check.ok ? 'equal' : 'MISMATCH'})`,
        ],
        ['CPU of this process (generator, relay, metering)', `${metering.cpuPercent.toFixed(0)}% of one core`],
      ]
    : [];

  const usageHeader: Row = ['measure', 'value'];
  const usageRows: Row[] = usage
    ? [
        [
          'usage events (organizations, meetings)',
          `${int(usage.usageEvents)} (${int(usage.orgs)}, ${int(usage.meetings)}) in ${usage.period}`,
        ],
        [
          'appended / projected by Quorum',
          `${(usage.seedMs / 1000).toFixed(1)} s / ${(usage.projectMs / 1000).toFixed(1)} s after the last append`,
        ],
        [
          'baseline: org.get p50 / p95',
          `${ms(usage.baseline.p50)} / ${ms(usage.baseline.p95)}  (${int(usage.baseline.count)} calls)`,
        ],
        ...usage.summary.map((s): Row => [
          `usage.summary by ${s.groupBy} p50 / p95`,
          `${ms(s.latency.p50)} / ${ms(s.latency.p95)}  (${s.rows} rows; p95 ${(s.latency.p95 / usage.baseline.p95).toFixed(1)}× org.get)`,
        ]),
        ...usage.financeOrgs.map((s): Row => [
          `finance.orgs by ${s.sort} (pages of 50) p50 / p95`,
          `${ms(s.latency.p50)} / ${ms(s.latency.p95)}  (p95 ${(s.latency.p95 / usage.baseline.p95).toFixed(1)}× org.get)`,
        ]),
        [
          'CSV export of the big organization',
          `${int(usage.exportRows)} rows at ${int(usage.exportRowsPerSec)} rows/s`,
        ],
        [
          'baseline: the same rows from PostgreSQL in keyset pages',
          `${int(usage.exportBaselineRowsPerSec)} rows/s (export ${pct(usage.exportRowsPerSec / usage.exportBaselineRowsPerSec)} of it)`,
        ],
        [
          "Quorum's live heap before / highest during a second export",
          `${usage.heapBeforeMiB.toFixed(0)} MiB / ${usage.heapPeakMiB.toFixed(0)} MiB (+${(usage.heapPeakMiB - usage.heapBeforeMiB).toFixed(0)} MiB; after a full collection, every 500 ms)`,
        ],
        [
          "Quorum's RSS before / peak during the timed export",
          `${usage.rssBeforeMiB.toFixed(0)} MiB / ${usage.rssPeakMiB.toFixed(0)} MiB (+${(usage.rssPeakMiB - usage.rssBeforeMiB).toFixed(0)} MiB, garbage included)`,
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
      `(b) lag p99 < 100 ms at ${lag.targetRate} commands/s, 0 errors`,
      `${ms(lag.lag.p99)}, ${lag.errors} errors`,
      verdict(lag.target.pass),
    ]);
    targets.push([
      '(b) generator kept the rate (≥ 97%)',
      `${lag.achievedRate.toFixed(1)}/s`,
      verdict(lag.target.rateKept),
    ]);
  } else if (only.has('lag')) targets.push(['(b) lag p99 < 100 ms', 'did not run', 'FAIL']);
  targets.push(...capacityTargets(capacity, baseline, only.has('lag')));
  if (rebuild) {
    targets.push([
      '(c) rebuild ≥ 10,000 events/s',
      `${int(rebuild.rebuild.eventsPerSecond)} events/s`,
      verdict(rebuild.target.pass),
    ]);
    targets.push(rebuildRatioTarget(rebuild.rebuild.eventsPerSecond, baseline));
  } else if (only.has('rebuild')) targets.push(['(c) rebuild ≥ 10,000 events/s', 'did not run', 'FAIL']);
  if (metering) {
    targets.push([
      '(d) usage lag p99 < 1 s at 500 session events/s, every leave metered, totals equal',
      `${ms(metering.usageLag.p99)}, ${metering.missing} missing, ${metering.check.ok ? 'equal' : 'MISMATCH'}`,
      verdict(metering.target.pass && metering.check.ok),
    ]);
    targets.push([
      '(d) generator kept the rate (≥ 97%)',
      `${metering.achievedRate.toFixed(1)}/s`,
      verdict(metering.target.rateKept),
    ]);
  } else if (only.has('metering')) targets.push(['(d) usage lag p99 < 1 s', 'did not run', 'FAIL']);
  if (usage) {
    targets.push([
      '(e) usage.summary p95 < 100 ms over ≥ 1 M usage events',
      `${ms(usage.target.summaryP95Ms)} (${int(usage.usageEvents)} events)`,
      verdict(usage.target.summaryPass && usage.usageEvents >= 1_000_000),
    ]);
    targets.push([
      '(e) finance.orgs p95 < 300 ms over 1,000 organizations',
      ms(usage.target.financeP95Ms),
      verdict(usage.target.financePass && usage.orgs >= 1_000),
    ]);
    targets.push([
      '(e) CSV export ≥ 50,000 rows/s',
      `${int(usage.exportRowsPerSec)} rows/s`,
      verdict(usage.target.exportPass),
    ]);
    targets.push([
      '(e) heap grows < 50 MiB over the export of ≥ 1 M rows',
      `+${(usage.heapPeakMiB - usage.heapBeforeMiB).toFixed(0)} MiB live heap over ${int(usage.exportRows)} rows`,
      verdict(usage.target.memoryPass && usage.exportRows >= 1_000_000),
    ]);
  } else if (only.has('usage')) targets.push(['(e) usage reads', 'did not run', 'FAIL']);
  if (webhooks) targets.push(...webhooksTargets(webhooks));
  else if (only.has('webhooks')) targets.push(['(f) webhook event → received p99 < 1 s', 'did not run', 'FAIL']);
  targets.push(...sseTargets(sse, only.has('sse')));

  return {
    append: { header: appendHeader, rows: appendRows },
    lag: { header: lagHeader, rows: lagRows },
    capacity: { header: ['measure', 'value'], rows: capacity ? capacityRows(capacity, baseline) : [] },
    steps: { header: STEP_HEADER, rows: capacity ? capacity.steps.map(stepRow) : [] },
    loadGenerator: { header: ['measure', 'value'], rows: capacity ? loadGeneratorRows(capacity) : [] },
    rebuild: { header: rebuildHeader, rows: rebuildRows },
    metering: { header: meteringHeader, rows: meteringRows },
    usage: { header: usageHeader, rows: usageRows },
    webhooks: { header: ['measure', 'value'], rows: webhooks ? webhooksRows(webhooks) : [] },
    sse: { header: SSE_HEADER, rows: sse ? sseRows(sse) : [] },
    targets,
  };
}

export function printBenchTables(
  { append, lag, capacity, rebuild, metering, usage, webhooks, sse }: BenchResults,
  tables: BenchTables,
  log: (line: string) => void,
): void {
  log('');
  if (append)
    log(
      `(a) appends, ${append.durationMs / 1000} s per measurement after ${append.warmupMs} ms warm-up, pool max ${append.poolMax}\n${textTable(tables.append.header, tables.append.rows)}\n`,
    );
  if (lag) log(`(b) lag\n${textTable(tables.lag.header, tables.lag.rows)}\n`);
  if (capacity) {
    log(`(b) capacity\n${textTable(tables.capacity.header, tables.capacity.rows)}\n`);
    log(`(b) capacity search steps\n${textTable(tables.steps.header, tables.steps.rows)}\n`);
    log(
      `(b) the k6 scenario at half the capacity\n${textTable(tables.loadGenerator.header, tables.loadGenerator.rows)}\n`,
    );
  }
  if (rebuild) log(`(c) rebuild\n${textTable(tables.rebuild.header, tables.rebuild.rows)}\n`);
  if (metering) log(`(d) metering\n${textTable(tables.metering.header, tables.metering.rows)}\n`);
  if (usage) log(`(e) usage reads\n${textTable(tables.usage.header, tables.usage.rows)}\n`);
  if (webhooks) log(`(f) webhook delivery\n${textTable(tables.webhooks.header, tables.webhooks.rows)}\n`);
  if (sse) log(`(g) event streams fanned out\n${textTable(tables.sse.header, tables.sse.rows)}\n`);
  log(textTable(['target', 'measured', 'result'], tables.targets));
}

/** docs/benchmarks.md for this run; `previous` is the file being replaced (its k6 block is kept). */
export function renderBenchmarksDoc(
  machine: BenchMachine,
  {
    append,
    lag,
    capacity,
    baseline = { source: 'not measured' },
    rebuild,
    metering,
    usage,
    webhooks,
    sse,
  }: BenchResults,
  tables: BenchTables,
  previous: string | undefined,
): string {
  const k6Section = markedBlock(previous, K6) ?? `${K6.start}\n_Not run yet: see load-tests/README.md._\n${K6.end}`;
  return `# Benchmarks

Written by \`${machine.command}\` (load-tests/bench/main.ts); rerun it to refresh. Every figure
below comes from one run on the machine described here; loads target loopback only.

## Machine

${machineTable(machine, [
  ['PostgreSQL', `${machine.postgres} (${machine.postgresSettings})`],
  ['NATS', machine.nats],
])}

Postgres, NATS, the Quorum child process and the load generator all share these cores.

## Targets

${markdownTable(['target', 'measured', 'result'], tables.targets)}

## (a) Event store appends vs plain INSERTs
${
  append
    ? `
\`PostgresEventStore\` over \`createPgSqlDatabase({ max: ${append.poolMax} })\` in a fresh database. Each worker
appends one event per call to its own stream with the exact expected revision. The baseline is one
autocommit \`INSERT\` per operation into a table shaped like \`es_events\` (bigserial, uuid, stream id,
jsonb data and metadata) through the same pool at the same concurrency. The adapter runs as Quorum
runs it, with group commit (appends that queue behind others go as one \`es_append_batch\`
statement and transaction), and again with group commit off ("one by one": every append its own
statement and transaction, as before that change). ${append.durationMs / 1000} s per
measurement after a ${append.warmupMs} ms warm-up.

${markdownTable(tables.append.header, tables.append.rows)}
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

${markdownTable(tables.lag.header, tables.lag.rows)}
${lag.errorSamples.length ? `\nFirst errors:\n\n${lag.errorSamples.map((e) => `- \`${e}\``).join('\n')}\n` : ''}`
    : '\n_Did not run._\n'
}${capacity ? capacitySection(capacity, baseline) : ''}
## (c) Rebuild throughput
${
  rebuild
    ? `
${int(rebuild.events)} events (${int(rebuild.orgs)} organizations × organization.created, member.invited/joined,
seats.purchased/released, seat.assigned) appended to a fresh database, then
\`rebuildProjection({ batchSize: ${rebuild.batchSize}, partitions: ${rebuild.partitions} })\` from \`@quorum/projector/rebuild\`. The statement profile is
client-side time per statement (round trip included) for the projection's writes; reads of \`$all\`
are not in it. With more than one partition the shares' statements run at the same time, so their
total is more than the rebuild took.

${markdownTable(tables.rebuild.header, tables.rebuild.rows)}
`
    : '\n_Did not run._\n'
}
## (d) Metering
${
  metering
    ? `
A fresh database, the PostgreSQL event store, NATS JetStream (a namespace of its own), the relay and
the metering consumer in the benchmark's process. Open loop: ${metering.targetRate} session events/s for
${metering.durationMs / 1000} s over ${metering.meetings} meetings at a time, each scheduled → four joins → four
leaves → ended, one append per event with the clock's instants. Usage lag: a leave's append
returning → the \`usage.recorded\` it caused readable in the store. Baseline, same run: the same
append → delivered to a plain durable consumer of the bus. The participant seconds metered are
checked against \`meterSession\` over every session stream afterwards.

${markdownTable(tables.metering.header, tables.metering.rows)}
`
    : '\n_Did not run._\n'
}
## (e) Usage reads
${
  usage
    ? `
Quorum as a child process on PostgreSQL and NATS, on a fresh database. \`usage.recorded\` events
(10 per meeting: four participants and the meeting, two 5-minute intervals each) are appended to
the event store for one organization's month and for ${int(usage.orgs - 1)} others; Quorum's projector builds the
usage read models, and the reads start once it has caught up. Each latency is ${int(usage.baseline.count)} sequential calls
over keep-alive HTTP as the organization's owner; the baseline is \`org.get\` on the same path. The
export is \`GET /usage/export.csv\` of the big organization's month, with Quorum's resident memory
sampled every 100 ms; its baseline reads the same rows from PostgreSQL in keyset pages of 2,000.

${markdownTable(tables.usage.header, tables.usage.rows)}
`
    : '\n_Did not run._\n'
}
## (f) Webhook delivery
${webhooks ? webhooksSection(webhooks, markdownTable(tables.webhooks.header, tables.webhooks.rows)) : '\n_Did not run._\n'}${sseSection(sse)}
## k6

${k6Section}
`;
}
