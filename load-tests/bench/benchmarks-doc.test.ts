import { describe, expect, it } from 'vitest';
import { benchTables, renderBenchmarksDoc, type BenchMachine } from './benchmarks-doc';
import type { CapacityBenchResult } from './capacity.bench';
import type { CommandStepResult } from './command-step';
import type { RebuildBenchResult } from './rebuild.bench';
import type { FloorStep } from './stack-floor';
import { summarize } from './stats';

function step(rate: number, rywP99: number, over: Partial<CommandStepResult> = {}): CommandStepResult {
  return {
    rate,
    warmupMs: 2_000,
    durationMs: 8_000,
    commands: rate * 8,
    achievedRate: rate,
    rateKept: true,
    commandLatency: summarize([5, 10]),
    readYourWrites: summarize([20, rywP99]),
    readBackEvery: 10,
    lag: summarize([15, 60]),
    errors: 0,
    errorSamples: [],
    drained: true,
    childCpuPercent: 40,
    benchCpuPercent: 12,
    childCpuMsPerCommand: 3.8,
    idleCpuPercent: 2,
    pass: rywP99 < 100,
    nextIndex: 0,
    ...over,
  };
}

function floorStep(rate: number, p99: number, cpuMsPerRequest: number): FloorStep {
  return {
    rate,
    requests: rate * 8,
    achievedRate: rate,
    latency: summarize([2, p99]),
    errors: 0,
    errorSamples: [],
    cpuMsPerRequest,
    cpuPercent: (rate * cpuMsPerRequest) / 10,
    pass: p99 < 100,
  };
}

function capacityResult(over: Partial<CapacityBenchResult> = {}): CapacityBenchResult {
  const steps = [step(50, 80), step(100, 400), step(75, 90), step(88, 150)];
  return {
    plan: { startRate: 50, bisectSteps: 3, maxRate: 6_400, minGap: 5 },
    stepMs: 8_000,
    warmupMs: 2_000,
    budgetMs: 240_000,
    steps,
    capacity: 75,
    atCapacity: steps[2],
    searchMs: 90_000,
    stoppedByBudget: false,
    cpu: step(250, 5_000, { childCpuMsPerCommand: 3.8, benchCpuPercent: 14 }),
    loadGenerator: {
      ran: true,
      result: {
        tool: 'vegeta v12.13.0 (scripts/vegeta.sh)',
        targetRate: 37,
        durationS: 30,
        orgs: 50,
        report: {
          requests: 1110,
          rate: 37,
          throughput: 37,
          p50Ms: 6,
          p95Ms: 30,
          p99Ms: 80,
          maxMs: 120,
          failed: 0,
          statusCodes: { '200': 1110 },
          errors: [],
          thresholds: { p99: true, failed: true },
        },
        pass: true,
      },
    },
    floor: {
      ran: true,
      plan: { startRate: 400, bisectSteps: 3, maxRate: 6_400, minGap: 25 },
      cpu: floorStep(250, 6, 0.95),
      steps: [floorStep(400, 8, 0.8), floorStep(800, 20, 0.7), floorStep(1_600, 900, 0.6), floorStep(1_600, 700, 0.6)],
      capacity: 800,
    },
    target: { maxCpuMsPerCommand: 0.6, cpuPass: false },
    ...over,
  };
}

const rebuild = {
  events: 100_000,
  orgs: 1_000,
  appendMs: 4_000,
  appendEventsPerSec: 25_000,
  batchSize: 1_000,
  rebuild: { eventsPerSecond: 8_000, durationMs: 12_500 },
  profile: { statements: 0, statementsPerEvent: 0, sqlMs: 0, top: [] },
  check: { eventLog: 100_000, members: 31_000, assignments: 30_000, seatsPurchased: 0, deadLetters: 0, ok: true },
  target: { minEventsPerSec: 10_000, pass: false },
} as unknown as RebuildBenchResult;

const baseline = { source: 'part (a)', c1: 1_600, c32: 6_000 };
const target = (rows: readonly (readonly string[])[], start: string) => rows.find((r) => r[0]!.startsWith(start));

describe('the capacity rows', () => {
  it('sets the capacity beside plain INSERTs at concurrency 32 as a ratio, with the lag at that rate', () => {
    const { targets } = benchTables({ capacity: capacityResult(), baseline }, new Set(['lag']));
    expect(target(targets, '(b) capacity ≥ 25%')?.slice(1)).toEqual([
      '75/s of 6,000/s = 1.3%; lag p50 / p99 15.0 ms / 60.0 ms',
      'FAIL',
    ]);
    expect(target(targets, '(b) Quorum CPU ≤ 0.6 ms per command at 250')?.slice(1)).toEqual([
      '3.80 ms = 6.3× the goal (generator 14% of a core)',
      'FAIL',
    ]);
    expect(target(targets, '(b) the k6 scenario at half the capacity')?.slice(1)).toEqual([
      '37/s: p99 80.0 ms, 0 failed',
      'PASS',
    ]);
  });

  it('passes the capacity goal at a quarter of the baseline and the CPU goal at 0.6 ms', () => {
    const c = capacityResult({ capacity: 1_500, target: { maxCpuMsPerCommand: 0.6, cpuPass: true } });
    const { targets } = benchTables({ capacity: c, baseline }, new Set(['lag']));
    expect(target(targets, '(b) capacity')?.[2]).toBe('PASS');
    expect(target(targets, '(b) Quorum CPU')?.[2]).toBe('PASS');
  });

  it('says why the outside generator did not run, and fails its target', () => {
    const c = capacityResult({
      loadGenerator: { ran: false, reason: 'vegeta is not installed: run scripts/vegeta.sh' },
    });
    const tables = benchTables({ capacity: c, baseline }, new Set(['lag']));
    expect(target(tables.targets, '(b) the k6 scenario')?.slice(1)).toEqual([
      'not run: vegeta is not installed: run scripts/vegeta.sh',
      'FAIL',
    ]);
    expect(tables.loadGenerator.rows).toEqual([['not run', 'vegeta is not installed: run scripts/vegeta.sh']]);
  });

  it('fails the capacity and CPU targets when part (b) was asked for and gave no capacity', () => {
    const { targets } = benchTables({ baseline }, new Set(['lag']));
    expect(target(targets, '(b) capacity')?.slice(1)).toEqual(['did not run', 'FAIL']);
    expect(target(targets, '(b) Quorum CPU')?.slice(1)).toEqual(['did not run', 'FAIL']);
    expect(target(benchTables({}, new Set(['append'])).targets, '(b) capacity')).toBeUndefined();
  });

  it("sets Quorum's CPU and capacity beside the stack's floor measured in the same run", () => {
    const { capacity: table } = benchTables({ capacity: capacityResult(), baseline }, new Set(['lag']));
    expect(table.rows.find((r) => r[0] === 'stack floor: CPU per request at 250/s')?.[1]).toBe(
      "0.95 ms; Quorum's per command 4.0× it",
    );
    expect(table.rows.find((r) => r[0]!.startsWith('stack floor: capacity'))?.[1]).toBe(
      "800 requests/s = 13% of plain INSERTs at concurrency 32; Quorum's capacity 9.4% of it",
    );
    const without = capacityResult({ floor: { ran: false, error: 'stack floor server did not listen within 60 s' } });
    expect(benchTables({ capacity: without, baseline }, new Set(['lag'])).capacity.rows.at(-1)).toEqual([
      'stack floor (tRPC standalone server, zod, one INSERT)',
      'not run: stack floor server did not listen within 60 s',
    ]);
  });

  it('lists every step of the search', () => {
    const { steps } = benchTables({ capacity: capacityResult(), baseline }, new Set(['lag']));
    expect(steps.rows.map((r) => [r[0], r[9]])).toEqual([
      ['50/s', 'pass'],
      ['100/s', 'fail'],
      ['75/s', 'pass'],
      ['88/s', 'fail'],
    ]);
  });
});

describe('the rebuild ratio', () => {
  it('sets rebuild events/s beside plain INSERTs at concurrency 1, goal 8×', () => {
    const { targets, rebuild: table } = benchTables({ rebuild, baseline }, new Set(['rebuild']));
    expect(target(targets, '(c) rebuild ≥ 8×')?.slice(1)).toEqual(['8,000 / 1,600 = 5.0×', 'FAIL']);
    expect(table.rows.find((r) => r[0]!.startsWith('plain INSERTs'))?.[1]).toBe('1,600/s (part (a)); rebuild 5.0× it');
    const fast = { ...rebuild, rebuild: { ...rebuild.rebuild, eventsPerSecond: 12_800 } } as RebuildBenchResult;
    expect(
      target(benchTables({ rebuild: fast, baseline }, new Set(['rebuild'])).targets, '(c) rebuild ≥ 8×')?.[2],
    ).toBe('PASS');
  });

  it('answers n/a and fails without a baseline', () => {
    const { targets } = benchTables({ rebuild }, new Set(['rebuild']));
    expect(target(targets, '(c) rebuild ≥ 8×')?.slice(1)).toEqual(['8,000 / n/a = n/a×', 'FAIL']);
  });
});

describe('docs/benchmarks.md', () => {
  const machine: BenchMachine = {
    date: '2026-12-03T10:00:00.000Z',
    command: 'npm run bench',
    nproc: 2,
    ramGiB: '23.5',
    cpu: 'AMD EPYC',
    kernel: 'Linux 6.1.0',
    node: 'v20.20.2',
    loadAverage: '0.50 0.40 0.30',
    postgres: 'PostgreSQL 15.18',
    postgresSettings: 'fsync=on',
    nats: 'nats-server 2.9.10',
  };

  it('shows the capacity, its steps and the outside generator in section (b), and keeps the k6 block', () => {
    const results = { capacity: capacityResult(), baseline };
    const previous = '# Benchmarks\n\n<!-- k6:start -->\nan operator run\n<!-- k6:end -->\n';
    const doc = renderBenchmarksDoc(machine, results, benchTables(results, new Set(['lag'])), previous);
    const section = doc.slice(doc.indexOf('### Capacity'), doc.indexOf('## (c)'));
    expect(section).toContain('| capacity / baseline | 1.3% (goal ≥ 25%) |');
    expect(section).toContain('| Quorum CPU per command at 250/s | 3.80 ms (goal ≤ 0.6 ms; 2,000 commands in 8 s) |');
    expect(section).toContain('| 75/s | 75.0 | 20.0 ms | 90.0 ms (2) | 15.0 ms | 60.0 ms | 0 | 40% | 3.80 | pass |');
    expect(section).toContain('| threshold p99 < 250 ms | PASS |');
    expect(section).toContain("### The stack's floor");
    expect(section).toContain('| 1600/s | 1600.0 | 2.00 ms | 900 ms | 0 | 96% | 0.60 | fail |');
    expect(doc).toContain('<!-- k6:start -->\nan operator run\n<!-- k6:end -->');
  });
});
