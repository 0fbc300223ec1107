/**
 * (b) Capacity: the highest steady command rate at which read-your-writes p99 (sending a
 * command to its `minPosition` read being answered) stays under 100 ms with no errors, found
 * by a bounded search (capacity-search.ts) of steps of steady traffic (command-step.ts) on one
 * Quorum child. The same child then takes the command scenario of load-tests/k6 at half the
 * capacity from an outside generator (load-generator.ts), against the scenario's own
 * thresholds, and last a fixed rate for Quorum's CPU per command (a rate that may overload it).
 * After Quorum has stopped, the stack's floor (stack-floor.ts: tRPC's standalone server, a zod
 * input, one INSERT) takes the same fixed rate and its own capacity search, so Quorum's figures
 * stand beside what the bare stack does on the same machine in the same run.
 */
import { startBenchQuorum, type BenchQuorum } from './bench-quorum';
import { capacityOf, nextRate, type SearchPlan } from './capacity-search';
import { runCommandStep, type CommandStepResult } from './command-step';
import { runLoadGenerator, VEGETA_INSTALL_HINT, type LoadGeneratorResult } from './load-generator';
import { describeFloorStep, startStackFloor, type FloorStep } from './stack-floor';
import { ms } from './stats';

export interface CapacityBenchResult {
  plan: SearchPlan;
  stepMs: number;
  warmupMs: number;
  budgetMs: number;
  /** Every step of the search, in the order run. */
  steps: CommandStepResult[];
  /** The highest rate that passed below every rate that failed (0 when none passed). */
  capacity: number;
  /** The step that measured the capacity. */
  atCapacity: CommandStepResult | undefined;
  searchMs: number;
  /** The search stopped because the next step would not fit in the budget. */
  stoppedByBudget: boolean;
  /** Steady traffic at a fixed rate for Quorum's CPU per command. */
  cpu: CommandStepResult;
  loadGenerator: { ran: true; result: LoadGeneratorResult } | { ran: false; reason: string };
  /** The stack's floor, measured after Quorum stopped; `error` when it could not run. */
  floor: StackFloorResult;
  target: { maxCpuMsPerCommand: number; cpuPass: boolean };
}

export type StackFloorResult =
  { ran: true; plan: SearchPlan; cpu: FloorStep; steps: FloorStep[]; capacity: number } | { ran: false; error: string };

export interface CapacityBenchOptions {
  log?: (line: string) => void;
  /** The search's whole budget, steps and drains included. */
  budgetMs?: number;
  stepMs?: number;
  warmupMs?: number;
  cpuRate?: number;
  cpuDurationMs?: number;
  /** The outside generator's binary; `undefined` when it is not installed. */
  vegeta?: string | undefined;
  loadGeneratorSeconds?: number;
  /** Runs the stack's floor after Quorum (default true). */
  floor?: boolean;
}

export const CPU_MS_PER_COMMAND_GOAL = 0.6;

export function describeStep(s: CommandStepResult): string {
  return (
    `${s.rate}/s: read-your-writes p99 ${ms(s.readYourWrites.p99)} (${s.readYourWrites.count}), ` +
    `lag p99 ${ms(s.lag.p99)}, ${s.errors} errors, ${s.achievedRate.toFixed(1)}/s sent, ` +
    `Quorum ${s.childCpuPercent.toFixed(0)}% of a core, ${s.childCpuMsPerCommand.toFixed(2)} CPU-ms/command` +
    ` -> ${s.pass ? 'pass' : 'FAIL'}`
  );
}

export async function runCapacityBench(options: CapacityBenchOptions = {}): Promise<CapacityBenchResult> {
  const log = options.log ?? (() => {});
  const budgetMs = options.budgetMs ?? 240_000;
  const stepMs = options.stepMs ?? 8_000;
  const warmupMs = options.warmupMs ?? 2_000;
  const cpuRate = options.cpuRate ?? 250;
  const cpuDurationMs = options.cpuDurationMs ?? 15_000;
  const plan: SearchPlan = { startRate: 50, bisectSteps: 3, maxRate: 6_400, minGap: 5 };
  let quorum: BenchQuorum | undefined;
  try {
    quorum = await startBenchQuorum({ orgs: 50, users: 5, log });
    let index = 0;

    // Unmeasured: compiles the hot paths and fills the pools before the first step counts.
    const warm = await runCommandStep(quorum, { rate: 100, warmupMs: 0, durationMs: 5_000, startIndex: index });
    index = warm.nextIndex;
    log(`  warm-up at 100/s for 5 s, not counted: read-your-writes p99 ${ms(warm.readYourWrites.p99)}`);

    const steps: CommandStepResult[] = [];
    const searchStart = performance.now();
    let stoppedByBudget = false;
    let longestStepMs = stepMs + warmupMs;
    for (let rate = nextRate(steps, plan); rate !== undefined; rate = nextRate(steps, plan)) {
      if (performance.now() - searchStart + longestStepMs > budgetMs) {
        stoppedByBudget = true;
        break;
      }
      const t0 = performance.now();
      const step = await runCommandStep(quorum, { rate, warmupMs, durationMs: stepMs, startIndex: index });
      longestStepMs = Math.max(longestStepMs, performance.now() - t0);
      index = step.nextIndex;
      steps.push(step);
      log(`  step ${describeStep(step)}`);
    }
    const searchMs = performance.now() - searchStart;
    const capacity = capacityOf(steps);
    const atCapacity = steps.find((s) => s.rate === capacity && s.pass);
    log(`  capacity ${capacity} commands/s (search ${(searchMs / 1000).toFixed(0)} s)`);

    let loadGenerator: CapacityBenchResult['loadGenerator'];
    const half = Math.floor(capacity / 2);
    if (!options.vegeta) {
      loadGenerator = { ran: false, reason: `vegeta is not installed: ${VEGETA_INSTALL_HINT}` };
    } else if (half < 1) {
      loadGenerator = { ran: false, reason: 'no capacity measured, so no half of it to send' };
    } else {
      const durationS = options.loadGeneratorSeconds ?? 30;
      log(`  outside generator: the k6 scenario at ${half}/s for ${durationS} s (vegeta)`);
      const result = await runLoadGenerator({
        vegeta: options.vegeta,
        client: quorum.client,
        port: quorum.port,
        rate: half,
        durationS,
      });
      const r = result.report;
      log(
        `  outside generator: ${r.requests} requests, p99 ${ms(r.p99Ms)}, ${r.failed} failed -> ${result.pass ? 'pass' : 'FAIL'}`,
      );
      loadGenerator = { ran: true, result };
    }
    if (!loadGenerator.ran) log(`  outside generator not run: ${loadGenerator.reason}`);

    const cpu = await runCommandStep(quorum, {
      rate: cpuRate,
      warmupMs: 3_000,
      durationMs: cpuDurationMs,
      startIndex: index,
    });
    log(`  fixed ${describeStep(cpu)}`);
    await quorum.close();
    quorum = undefined;
    const floor: StackFloorResult =
      options.floor === false
        ? { ran: false, error: 'not asked for' }
        : await runFloor({ log, stepMs, warmupMs, cpuRate, cpuDurationMs });

    return {
      plan,
      stepMs,
      warmupMs,
      budgetMs,
      steps,
      capacity,
      atCapacity,
      searchMs,
      stoppedByBudget,
      cpu,
      loadGenerator,
      floor,
      target: {
        maxCpuMsPerCommand: CPU_MS_PER_COMMAND_GOAL,
        cpuPass: cpu.errors === 0 && cpu.drained && cpu.childCpuMsPerCommand <= CPU_MS_PER_COMMAND_GOAL,
      },
    };
  } finally {
    await quorum?.close();
  }
}

/**
 * The stack's floor at the fixed rate, then its capacity by the same search (starting at 400/s:
 * the floor carries far more than Quorum, and each step costs ten seconds of the run).
 */
async function runFloor(o: {
  log: (line: string) => void;
  stepMs: number;
  warmupMs: number;
  cpuRate: number;
  cpuDurationMs: number;
}): Promise<StackFloorResult> {
  const plan: SearchPlan = { startRate: 400, bisectSteps: 3, maxRate: 6_400, minGap: 25 };
  let floor;
  try {
    floor = await startStackFloor();
    await floor.step(100, { warmupMs: 0, durationMs: 5_000 });
    const cpu = await floor.step(o.cpuRate, { warmupMs: 3_000, durationMs: o.cpuDurationMs });
    o.log(`  stack floor, fixed ${describeFloorStep(cpu)}`);
    const steps: FloorStep[] = [];
    for (let rate = nextRate(steps, plan); rate !== undefined; rate = nextRate(steps, plan)) {
      const step = await floor.step(rate, { warmupMs: o.warmupMs, durationMs: o.stepMs });
      steps.push(step);
      o.log(`  stack floor step ${describeFloorStep(step)}`);
    }
    const capacity = capacityOf(steps);
    o.log(`  stack floor capacity ${capacity} requests/s`);
    return { ran: true, plan, cpu, steps, capacity };
  } catch (err) {
    o.log(`  stack floor did not run: ${(err as Error).message}`);
    return { ran: false, error: (err as Error).message };
  } finally {
    await floor?.close();
  }
}
