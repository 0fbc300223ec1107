/**
 * Steady command traffic at the rates given, on one Quorum child, without the search: for
 * profiling a rate and for comparing two builds back to back.
 *
 *   node --import tsx load-tests/bench/steps.ts 50 250
 *   BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" node --import tsx load-tests/bench/steps.ts 250
 *
 * Each rate runs after the same unmeasured warm-up as the capacity search (100/s for 5 s), for
 * BENCH_STEP_SECONDS (15) after 3 s of its own warm-up, and prints the step as the search does.
 */
import { startBenchQuorum, type BenchQuorum } from './bench-quorum';
import { describeStep } from './capacity.bench';
import { runCommandStep } from './command-step';

const rates = process.argv.slice(2).map(Number);
if (rates.length === 0 || rates.some((r) => !Number.isFinite(r) || r <= 0)) {
  process.stderr.write('usage: steps.ts <commands/s> [<commands/s> …]\n');
  process.exit(2);
}
const seconds = Number(process.env.BENCH_STEP_SECONDS ?? 15);
const log = (line: string) => process.stdout.write(`${line}\n`);

let quorum: BenchQuorum | undefined;
try {
  quorum = await startBenchQuorum({ orgs: 50, users: 5, log });
  let index = (await runCommandStep(quorum, { rate: 100, warmupMs: 0, durationMs: 5_000, startIndex: 0 })).nextIndex;
  for (const rate of rates) {
    const step = await runCommandStep(quorum, {
      rate,
      warmupMs: 3_000,
      durationMs: seconds * 1_000,
      startIndex: index,
    });
    index = step.nextIndex;
    log(`step ${describeStep(step)}`);
    log(
      `  command p50/p99 ${step.commandLatency.p50.toFixed(1)}/${step.commandLatency.p99.toFixed(1)} ms, ` +
        `read-your-writes p50 ${step.readYourWrites.p50.toFixed(1)} ms, lag p50 ${step.lag.p50.toFixed(1)} ms, ` +
        `idle ${step.idleCpuPercent.toFixed(1)}%, generator ${step.benchCpuPercent.toFixed(0)}%`,
    );
    for (const sample of step.errorSamples) log(`  error: ${sample}`);
  }
} finally {
  await quorum?.close();
}
