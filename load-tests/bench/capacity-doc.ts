/**
 * Part (b)'s capacity figures as table rows, target rows and the doc's section: the capacity
 * beside the plain-INSERT baseline at concurrency 32 of the same run, Quorum's CPU per command,
 * the outside generator at half the capacity, and the rebuild beside the baseline at concurrency 1.
 */
import type { CapacityBenchResult } from './capacity.bench';
import type { FloorStep } from './stack-floor';
import { READ_YOUR_WRITES_MAX_P99_MS, type CommandStepResult } from './command-step';
import { LOAD_GENERATOR_THRESHOLDS } from './load-generator';
import { int, markdownTable, ms, pct, verdict, type Row } from './stats';

/** Plain INSERTs/s of the run, per concurrency, and where they come from. */
export interface InsertBaseline {
  /** `part (a)` or `measured alone` (a run without (a)). */
  source: string;
  c1?: number | undefined;
  c32?: number | undefined;
}

export const CAPACITY_GOAL = 0.25;
export const REBUILD_GOAL = 8;

const ratio = (value: number, base: number | undefined) => (base ? value / base : Number.NaN);

/** A share with a decimal when it is small, so 0.3% does not read as 0%. */
const share = (r: number) => (Number.isFinite(r) && r < 0.1 ? `${(r * 100).toFixed(1)}%` : pct(r));

export const STEP_HEADER: Row = [
  'rate',
  'sent/s',
  'read-your-writes p50',
  'p99 (reads)',
  'lag p50',
  'lag p99',
  'errors',
  'Quorum CPU',
  'CPU-ms / command',
  'result',
];

export function stepRow(s: CommandStepResult): Row {
  return [
    `${s.rate}/s`,
    s.achievedRate.toFixed(1),
    ms(s.readYourWrites.p50),
    `${ms(s.readYourWrites.p99)} (${s.readYourWrites.count})`,
    ms(s.lag.p50),
    ms(s.lag.p99),
    String(s.errors),
    `${s.childCpuPercent.toFixed(0)}%`,
    s.childCpuMsPerCommand.toFixed(2),
    s.pass ? 'pass' : 'fail',
  ];
}

export function capacityRows(c: CapacityBenchResult, baseline: InsertBaseline): Row[] {
  const at = c.atCapacity;
  const rows: Row[] = [
    [
      `capacity (read-your-writes p99 < ${READ_YOUR_WRITES_MAX_P99_MS} ms, 0 errors)`,
      `${int(c.capacity)} commands/s${c.stoppedByBudget ? ' (search stopped by its time budget)' : ''}`,
    ],
    [
      'plain INSERTs at concurrency 32, same run',
      baseline.c32 ? `${int(baseline.c32)}/s (${baseline.source})` : 'not measured',
    ],
    ['capacity / baseline', `${share(ratio(c.capacity, baseline.c32))} (goal ≥ ${pct(CAPACITY_GOAL)})`],
  ];
  if (at) {
    rows.push(
      ['at capacity: read-your-writes p50 / p99', `${ms(at.readYourWrites.p50)} / ${ms(at.readYourWrites.p99)}`],
      [
        "at capacity: projector's lag p50 / p99",
        `${ms(at.lag.p50)} / ${ms(at.lag.p99)}  (${int(at.lag.count)} commands)`,
      ],
      ['at capacity: command latency p50 / p99', `${ms(at.commandLatency.p50)} / ${ms(at.commandLatency.p99)}`],
      [
        'at capacity: CPU, Quorum / generator',
        `${at.childCpuPercent.toFixed(0)}% / ${at.benchCpuPercent.toFixed(0)}% of one core`,
      ],
    );
  }
  const cpu = c.cpu;
  rows.push(
    [
      `Quorum CPU per command at ${cpu.rate}/s`,
      `${cpu.childCpuMsPerCommand.toFixed(2)} ms (goal ≤ ${c.target.maxCpuMsPerCommand} ms; ${int(cpu.commands)} commands in ${cpu.durationMs / 1000} s)`,
    ],
    [
      `at ${cpu.rate}/s: CPU, Quorum / generator (bench process)`,
      `${cpu.childCpuPercent.toFixed(0)}% / ${cpu.benchCpuPercent.toFixed(0)}% of one core (Quorum idle: ${cpu.idleCpuPercent.toFixed(1)}%)`,
    ],
    [
      `at ${cpu.rate}/s: read-your-writes p99, lag p99, errors`,
      `${ms(cpu.readYourWrites.p99)}, ${ms(cpu.lag.p99)}, ${cpu.errors}`,
    ],
  );
  rows.push(...floorRows(c, baseline));
  return rows;
}

/** The stack's floor beside Quorum: CPU per request at the fixed rate, and its capacity. */
export function floorRows(c: CapacityBenchResult, baseline: InsertBaseline): Row[] {
  const f = c.floor;
  if (!f.ran) return [['stack floor (tRPC standalone server, zod, one INSERT)', `not run: ${f.error}`]];
  return [
    [
      `stack floor: CPU per request at ${f.cpu.rate}/s`,
      `${f.cpu.cpuMsPerRequest.toFixed(2)} ms; Quorum's per command ${(c.cpu.childCpuMsPerCommand / f.cpu.cpuMsPerRequest).toFixed(1)}× it`,
    ],
    [
      `stack floor: capacity (p99 < ${READ_YOUR_WRITES_MAX_P99_MS} ms send to answer, 0 errors)`,
      `${int(f.capacity)} requests/s = ${share(ratio(f.capacity, baseline.c32))} of plain INSERTs at concurrency 32; Quorum's capacity ${share(ratio(c.capacity, f.capacity))} of it`,
    ],
  ];
}

const FLOOR_HEADER: Row = ['rate', 'sent/s', 'p50', 'p99', 'errors', 'floor CPU', 'CPU-ms / request', 'result'];

function floorStepRow(s: FloorStep): Row {
  return [
    `${s.rate}/s`,
    s.achievedRate.toFixed(1),
    ms(s.latency.p50),
    ms(s.latency.p99),
    String(s.errors),
    `${s.cpuPercent.toFixed(0)}%`,
    s.cpuMsPerRequest.toFixed(2),
    s.pass ? 'pass' : 'fail',
  ];
}

function floorSection(c: CapacityBenchResult): string {
  const f = c.floor;
  if (!f.ran) return `\n### The stack's floor\n\nNot run: ${f.error}\n`;
  return `
### The stack's floor

What a command costs at the least on this stack, measured right after Quorum stopped:
\`load-tests/bench/stack-floor-server.ts\`, tRPC's own standalone HTTP server with one mutation whose
input a zod schema checks and which runs one prepared INSERT (pg, a pool of 4) and answers the row's
id: no authentication, no event store, no bus, no projection. A child process started as Quorum is
(\`node --import tsx\`), driven by the same client in an open loop. Its CPU per request at ${f.cpu.rate}/s
is measured as Quorum's per command; its capacity by the same search (from ${f.plan.startRate}/s), a step
passing when the p99 from send to answer is under ${READ_YOUR_WRITES_MAX_P99_MS} ms with no errors. Quorum's step
times more than this one request: the command, its projection and the read that waits for it.

${markdownTable(FLOOR_HEADER, [f.cpu, ...f.steps].map(floorStepRow))}

The first row is the fixed rate (${int(f.cpu.requests)} requests measured), the others the search's steps.
`;
}

export function loadGeneratorRows(c: CapacityBenchResult): Row[] {
  if (!c.loadGenerator.ran) return [['not run', c.loadGenerator.reason]];
  const g = c.loadGenerator.result;
  const r = g.report;
  return [
    ['generator', g.tool],
    ['rate asked / sent / answered', `${g.targetRate}/s / ${r.rate.toFixed(1)}/s / ${r.throughput.toFixed(1)}/s`],
    ['requests', `${int(r.requests)} over ${g.durationS} s (${g.orgs} organizations)`],
    ['latency p50 / p95 / p99 / max', `${ms(r.p50Ms)} / ${ms(r.p95Ms)} / ${ms(r.p99Ms)} / ${ms(r.maxMs)}`],
    [
      'failed requests',
      `${r.failed}  (status codes ${Object.entries(r.statusCodes)
        .map(([code, n]) => `${code}: ${int(n)}`)
        .join(', ')})${r.errors[0] ? ` — e.g. ${r.errors[0].slice(0, 100)}` : ''}`,
    ],
    [`threshold p99 < ${LOAD_GENERATOR_THRESHOLDS.maxP99Ms} ms`, verdict(r.thresholds.p99)],
    ['threshold no failed request', verdict(r.thresholds.failed)],
  ];
}

export function capacityTargets(c: CapacityBenchResult | undefined, baseline: InsertBaseline, ran: boolean): Row[] {
  const capacityName = `(b) capacity ≥ ${pct(CAPACITY_GOAL)} of plain INSERTs at concurrency 32 (read-your-writes p99 < ${READ_YOUR_WRITES_MAX_P99_MS} ms, 0 errors)`;
  const cpuName = `(b) Quorum CPU ≤ ${c?.target.maxCpuMsPerCommand ?? 0.6} ms per command at ${c?.cpu.rate ?? 250} commands/s`;
  const generatorName = `(b) the k6 scenario at half the capacity: p99 < ${LOAD_GENERATOR_THRESHOLDS.maxP99Ms} ms, no failed request`;
  if (!c)
    return ran
      ? [
          [capacityName, 'did not run', 'FAIL'],
          [cpuName, 'did not run', 'FAIL'],
        ]
      : [];
  const capRatio = ratio(c.capacity, baseline.c32);
  const at = c.atCapacity;
  const rows: Row[] = [
    [
      capacityName,
      `${int(c.capacity)}/s of ${baseline.c32 ? int(baseline.c32) : 'n/a'}/s = ${share(capRatio)}${at ? `; lag p50 / p99 ${ms(at.lag.p50)} / ${ms(at.lag.p99)}` : ''}`,
      verdict(capRatio >= CAPACITY_GOAL),
    ],
    [
      cpuName,
      `${c.cpu.childCpuMsPerCommand.toFixed(2)} ms = ${(c.cpu.childCpuMsPerCommand / c.target.maxCpuMsPerCommand).toFixed(1)}× the goal (generator ${c.cpu.benchCpuPercent.toFixed(0)}% of a core)`,
      verdict(c.target.cpuPass),
    ],
  ];
  if (c.loadGenerator.ran) {
    const g = c.loadGenerator.result;
    rows.push([
      generatorName,
      `${g.targetRate}/s: p99 ${ms(g.report.p99Ms)}, ${g.report.failed} failed`,
      verdict(g.pass),
    ]);
  } else rows.push([generatorName, `not run: ${c.loadGenerator.reason}`, 'FAIL']);
  return rows;
}

export function rebuildRatioTarget(eventsPerSecond: number, baseline: InsertBaseline): Row {
  const r = ratio(eventsPerSecond, baseline.c1);
  return [
    `(c) rebuild ≥ ${REBUILD_GOAL}× plain INSERTs at concurrency 1`,
    `${int(eventsPerSecond)} / ${baseline.c1 ? int(baseline.c1) : 'n/a'} = ${Number.isFinite(r) ? r.toFixed(1) : 'n/a'}×`,
    verdict(r >= REBUILD_GOAL),
  ];
}

/** The capacity part of the doc's section (b). */
export function capacitySection(c: CapacityBenchResult, baseline: InsertBaseline): string {
  const readBack = c.cpu.readBackEvery;
  return `
### Capacity

The same kind of Quorum child, started afresh. After an unmeasured warm-up (100 commands/s for 5 s),
a search of steps of steady traffic: each step runs ${c.warmupMs / 1000} s at its rate unmeasured, then ${c.stepMs / 1000} s
measured, then drains (every command answered and projected, at most 30 s). One command in 10 (or
more often in a step with fewer than 4,000 commands, so that about 400 are read and the p99 is
not the largest of a few dozen; the reads column counts them) is read back with \`seats.get?minPosition=<its position>\`; read-your-writes is the time from sending
the command to that read's answer. A step passes when read-your-writes p99 < ${READ_YOUR_WRITES_MAX_P99_MS} ms with no
errors, the rate kept (≥ 97%) and everything drained. A failed step is run once more at its rate, and
the rate fails only if both did (the table shows both): one stall of a few hundred milliseconds, which
this machine shows at any rate, fails an 8 s step by itself. The search starts at ${c.plan.startRate}/s, doubles while
steps pass, then bisects ${c.plan.bisectSteps} times between the highest pass and the lowest failure, within
${c.budgetMs / 1000} s. The capacity is set beside plain INSERTs at concurrency 32 measured in the same run (by part (a), or
alone first when (a) did not run).

Quorum's CPU per command is the child's user + system time (every thread, \`/proc/<pid>/stat\`)
over a step at ${c.cpu.rate} commands/s (${c.cpu.warmupMs / 1000} s warm-up, ${c.cpu.durationMs / 1000} s measured, the drain), less its
idle CPU over the same time, divided by every command sent in the step (one in ${readBack} read back,
as in the search). The generator's CPU is this bench process's (client and checkpoint probe).
CPU per command is not the same at every rate: the steps below show it per rate.

${markdownTable(['measure', 'value'], capacityRows(c, baseline))}

Search steps (CPU-ms / command over each step, warm-up and drain included):

${markdownTable(STEP_HEADER, c.steps.map(stepRow))}

### The k6 scenario at half the capacity

The scenario of \`load-tests/k6/commands.js\` (one sign-up, ${c.loadGenerator.ran ? c.loadGenerator.result.orgs : 50} business organizations with 10 seats,
then \`seats.purchase\` / \`seats.release\` of one seat round-robin, alternating per organization) sent
against the same child right after the search by an outside open-loop generator, vegeta
(\`scripts/vegeta.sh\` installs it; k6 itself is not installed by this project's scripts), with the
scenario's thresholds.

${markdownTable(['measure', 'value'], loadGeneratorRows(c))}
${floorSection(c)}`;
}
