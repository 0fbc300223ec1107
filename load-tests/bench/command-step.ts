/**
 * One step of steady command traffic against a running bench Quorum: an open loop at `rate`
 * commands/s, a warm-up at that rate that is not measured, then the measured window, then a
 * bounded drain until every command is answered and projected.
 *
 * Read-your-writes: one command in `readBackEvery` (10, or fewer when the window is short, so
 * that about 400 are read) is followed by `seats.get` with the command's position as
 * `minPosition`, as a client that reads its own change does; its time runs from sending the
 * command to that read's answer. The projector's lag is measured for
 * every command by a probe that polls the active projection's checkpoint every 2 ms.
 *
 * Quorum's CPU per command is the child's utime + stime (every thread, from /proc) from the
 * first warm-up send to the end of the drain, less what the idle process spends in the same
 * time (measured just before), divided by every command sent in the step, warm-up included:
 * so no command's work is counted twice or left out at the window's edges.
 */
import pg from 'pg';
import { commandFor, type BenchQuorum } from './bench-quorum';
import { readCoreCheckpoint } from './lag-probe';
import { idleCpuPerMs, openLoop } from './open-loop';
import { procCpuMs } from './quorum-child';
import { sleep, summarize, type Summary } from './stats';

export interface CommandStepOptions {
  rate: number;
  warmupMs: number;
  durationMs: number;
  /** Index of the first command, so purchases and releases keep alternating across steps. */
  startIndex: number;
  /** One command in this many is read back; by default 1 in 10, more often when the window has under 4,000 commands. */
  readBackEvery?: number;
  /** How long the drain may take before what is left counts as errors. */
  drainMs?: number;
  /** How long the idle child is watched before the step, for its idle CPU. */
  idleMs?: number;
}

export interface CommandStepResult {
  rate: number;
  warmupMs: number;
  durationMs: number;
  /** Commands in the measured window. */
  commands: number;
  /** Commands sent per second in the measured window. */
  achievedRate: number;
  rateKept: boolean;
  commandLatency: Summary;
  readYourWrites: Summary;
  readBackEvery: number;
  /** The projector's lag (send to the checkpoint passing the command's position) of the window's commands. */
  lag: Summary;
  errors: number;
  errorSamples: string[];
  /** Every command answered and projected within the drain. */
  drained: boolean;
  /** Child CPU over the measured window, as a share of one core. */
  childCpuPercent: number;
  /** The generator's own CPU over the measured window, as a share of one core. */
  benchCpuPercent: number;
  /** Child CPU of the whole step less its idle CPU, per command sent (warm-up included). */
  childCpuMsPerCommand: number;
  /** The child's CPU while idle, as a share of one core. */
  idleCpuPercent: number;
  /** Read-your-writes p99 < `maxP99Ms`, no errors, the rate kept, everything drained. */
  pass: boolean;
  nextIndex: number;
}

/** The step's bar: read-your-writes p99 below this, with no errors. */
export const READ_YOUR_WRITES_MAX_P99_MS = 100;

export async function runCommandStep(quorum: BenchQuorum, options: CommandStepOptions): Promise<CommandStepResult> {
  const { rate, warmupMs, durationMs, startIndex } = options;
  const windowCommands = Math.round((durationMs / 1_000) * rate);
  // About 400 reads per window (every command below 100/s in an 8 s step): with 50, as before,
  // the p99 was the largest of them, and one pause anywhere failed a step that otherwise held.
  const readBackEvery = options.readBackEvery ?? Math.max(1, Math.min(10, Math.floor(windowCommands / 400)));
  const drainMs = options.drainMs ?? 30_000;
  const idleMs = options.idleMs ?? 1_000;
  const { client: c, orgs, child } = quorum;
  const pid = child.proc.pid!;

  const idleCpu = await idleCpuPerMs(pid, idleMs);

  const warmupCount = Math.round((warmupMs / 1_000) * rate);
  const total = windowCommands;
  const all = warmupCount + total;

  const cmdLatency: number[] = [];
  const ryw: number[] = [];
  const lags: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let readsExpected = 0;
  let firstSend = Number.NaN;
  let lastSend = Number.NaN;
  let abandoned = false;
  const inflight = new Set<Promise<void>>();

  const probe = new pg.Client({ connectionString: quorum.database.url });
  await probe.connect();
  const pending: Array<{ position: bigint; sentAt: number; measured: boolean }> = [];
  let probing = true;
  const probeLoop = (async () => {
    while (probing) {
      // Nothing waits for the projector: no poll.
      if (pending.length === 0) {
        await sleep(2);
        continue;
      }
      const reached = await readCoreCheckpoint(probe);
      const now = performance.now();
      for (let k = pending.length - 1; k >= 0; k--) {
        const w = pending[k]!;
        if (w.position <= reached) {
          if (w.measured && !abandoned) lags.push(now - w.sentAt);
          pending.splice(k, 1);
        }
      }
      await sleep(2);
    }
  })();

  const fire = (i: number) => {
    const { org, procedure } = commandFor(orgs, startIndex + i);
    const sentAt = performance.now();
    const measured = i >= warmupCount;
    const readBack = measured && i % readBackEvery === 0;
    if (measured) {
      if (Number.isNaN(firstSend)) firstSend = sentAt;
      lastSend = sentAt;
      if (readBack) readsExpected++;
    }
    const p = (async () => {
      try {
        const r = await c.call<{ position: string }>('POST', procedure, { orgId: org.orgId, quantity: 1 }, org.token);
        if (abandoned) return;
        pending.push({ position: BigInt(r.position), sentAt, measured });
        if (measured) cmdLatency.push(performance.now() - sentAt);
        if (readBack) {
          await c.call<unknown>('GET', 'seats.get', { orgId: org.orgId, minPosition: r.position }, org.token);
          if (!abandoned) ryw.push(performance.now() - sentAt);
        }
      } catch (err) {
        if (abandoned) return;
        errors++;
        if (errorSamples.length < 3) errorSamples.push((err as Error).message);
      }
    })();
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  const childCpu0 = procCpuMs(pid);
  const stepT0 = performance.now();
  let windowChildCpu0 = Number.NaN;
  let windowBenchCpu0: NodeJS.CpuUsage | undefined;
  let windowT0 = Number.NaN;
  await openLoop(all, rate, (i) => {
    if (i === warmupCount) {
      windowChildCpu0 = procCpuMs(pid);
      windowBenchCpu0 = process.cpuUsage();
      windowT0 = performance.now();
    }
    fire(i);
  });
  const windowMs = performance.now() - windowT0;
  const windowChildCpuMs = procCpuMs(pid) - windowChildCpu0;
  const windowBenchCpu = process.cpuUsage(windowBenchCpu0);

  const drainBy = performance.now() + drainMs;
  const answered = await Promise.race([Promise.all([...inflight]).then(() => true), sleep(drainMs).then(() => false)]);
  while (answered && pending.length > 0 && performance.now() < drainBy) await sleep(5);
  const drained = answered && pending.length === 0;
  abandoned = true;
  if (!answered) {
    errors += inflight.size;
    errorSamples.push(`${inflight.size} commands or reads still unanswered ${drainMs / 1000} s after the last send`);
  } else if (pending.length > 0) {
    errors += pending.length;
    errorSamples.push(`${pending.length} acknowledged commands not projected ${drainMs / 1000} s after the last send`);
  }
  const stepMs = performance.now() - stepT0;
  const stepChildCpuMs = procCpuMs(pid) - childCpu0;
  probing = false;
  await probeLoop;
  await probe.end();

  const achievedRate = total > 1 ? ((total - 1) / (lastSend - firstSend)) * 1_000 : 0;
  const rateKept = achievedRate >= rate * 0.97;
  const readYourWrites = summarize(ryw);
  return {
    rate,
    warmupMs,
    durationMs,
    commands: total,
    achievedRate,
    rateKept,
    commandLatency: summarize(cmdLatency),
    readYourWrites,
    readBackEvery,
    lag: summarize(lags),
    errors,
    errorSamples,
    drained,
    childCpuPercent: (windowChildCpuMs / windowMs) * 100,
    benchCpuPercent: ((windowBenchCpu.user + windowBenchCpu.system) / 1_000 / windowMs) * 100,
    childCpuMsPerCommand: Math.max(0, stepChildCpuMs - idleCpu * stepMs) / all,
    idleCpuPercent: idleCpu * 100,
    pass:
      errors === 0 &&
      drained &&
      rateKept &&
      readYourWrites.count === readsExpected &&
      readYourWrites.p99 < READ_YOUR_WRITES_MAX_P99_MS,
    nextIndex: startIndex + all,
  };
}
