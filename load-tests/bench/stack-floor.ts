/**
 * The stack's floor, measured beside Quorum in the same run: `stack-floor-server.ts` (tRPC's
 * standalone server, a zod input, one prepared INSERT; no authentication, event store or bus)
 * as a child process on a fresh database, driven by the bench's own HTTP client in an open
 * loop. A step at `rate` requests/s runs a warm-up, then the measured window; it passes when
 * the p99 from send to answer stays under 100 ms with no errors and the rate kept (the bar of a
 * Quorum step, where the time also covers the projection and the read).
 *
 * CPU per request is the child's utime + stime over the whole step less its idle CPU, per
 * request sent (warm-up included), as for Quorum's CPU per command.
 *
 *   node --import tsx load-tests/bench/stack-floor.ts 250 1000
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createBenchDatabase } from './env';
import { idleCpuPerMs, openLoop } from './open-loop';
import { createClient, freePort, procCpuMs } from './quorum-child';
import { sleep, summarize, type Summary } from './stats';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface FloorStep {
  rate: number;
  requests: number;
  achievedRate: number;
  latency: Summary;
  errors: number;
  errorSamples: string[];
  /** Child CPU of the whole step less its idle CPU, per request sent. */
  cpuMsPerRequest: number;
  /** Child CPU over the measured window, as a share of one core. */
  cpuPercent: number;
  pass: boolean;
}

export interface StackFloor {
  /** Starts a step of `rate` requests/s: `warmupMs` unmeasured, then `durationMs` measured. */
  step(rate: number, options?: { warmupMs?: number; durationMs?: number }): Promise<FloorStep>;
  close(): Promise<void>;
}

/** A floor step's bar: p99 from send to answer under this, as a Quorum step's read-your-writes. */
export const FLOOR_MAX_P99_MS = 100;

export async function startStackFloor(): Promise<StackFloor> {
  const database = await createBenchDatabase();
  const port = await freePort();
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'load-tests/bench/stack-floor-server.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: database.url, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let output = '';
  const listening = new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes(`listening ${port}`)) resolve();
    });
    proc.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    void exited.then(() => reject(new Error(`stack floor server exited: ${output.slice(-500)}`)));
  });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]))) proc.kill('SIGKILL');
      await exited;
    }
  };
  try {
    await Promise.race([
      listening,
      sleep(60_000).then(() => Promise.reject(new Error('stack floor server did not listen within 60 s'))),
    ]);
  } catch (err) {
    await stop();
    await database.drop();
    throw err;
  }
  const client = createClient(port);
  const orgIds = Array.from({ length: 50 }, () => randomUUID());
  const pid = proc.pid!;

  const step = async (rate: number, options: { warmupMs?: number; durationMs?: number } = {}): Promise<FloorStep> => {
    const warmupMs = options.warmupMs ?? 3_000;
    const durationMs = options.durationMs ?? 10_000;
    const idleCpu = await idleCpuPerMs(pid, 1_000);

    const warmup = Math.round((warmupMs / 1_000) * rate);
    const total = Math.round((durationMs / 1_000) * rate);
    const all = warmup + total;
    const latencies: number[] = [];
    const errorSamples: string[] = [];
    let errors = 0;
    let firstSend = Number.NaN;
    let lastSend = Number.NaN;
    const inflight = new Set<Promise<void>>();
    const fire = (i: number) => {
      const sentAt = performance.now();
      const measured = i >= warmup;
      if (measured) {
        if (Number.isNaN(firstSend)) firstSend = sentAt;
        lastSend = sentAt;
      }
      const p = client
        .call<{ position: string }>('POST', 'purchase', { orgId: orgIds[i % orgIds.length], quantity: 1 })
        .then(
          () => {
            if (measured) latencies.push(performance.now() - sentAt);
          },
          (err: unknown) => {
            errors++;
            if (errorSamples.length < 3) errorSamples.push((err as Error).message);
          },
        );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    };

    const cpu0 = procCpuMs(pid);
    const t0 = performance.now();
    let windowCpu0 = Number.NaN;
    let windowT0 = Number.NaN;
    await openLoop(all, rate, (i) => {
      if (i === warmup) {
        windowCpu0 = procCpuMs(pid);
        windowT0 = performance.now();
      }
      fire(i);
    });
    const windowMs = performance.now() - windowT0;
    const windowCpuMs = procCpuMs(pid) - windowCpu0;
    const answered = await Promise.race([Promise.all([...inflight]).then(() => true), sleep(30_000).then(() => false)]);
    if (!answered) {
      errors += inflight.size;
      errorSamples.push(`${inflight.size} requests still unanswered 30 s after the last send`);
    }
    const stepCpuMs = procCpuMs(pid) - cpu0 - idleCpu * (performance.now() - t0);
    const achievedRate = total > 1 ? ((total - 1) / (lastSend - firstSend)) * 1_000 : 0;
    const latency = summarize(latencies);
    return {
      rate,
      requests: total,
      achievedRate,
      latency,
      errors,
      errorSamples,
      cpuMsPerRequest: stepCpuMs / all,
      cpuPercent: (windowCpuMs / windowMs) * 100,
      pass: errors === 0 && achievedRate >= rate * 0.97 && latency.p99 < FLOOR_MAX_P99_MS,
    };
  };

  return {
    step,
    close: async () => {
      client.close();
      await stop();
      await database.drop();
    },
  };
}

export function describeFloorStep(s: FloorStep): string {
  return (
    `${s.rate}/s: p50/p99 ${s.latency.p50.toFixed(1)}/${s.latency.p99.toFixed(1)} ms, ${s.errors} errors, ` +
    `${s.achievedRate.toFixed(1)}/s sent, ${s.cpuPercent.toFixed(0)}% of a core, ${s.cpuMsPerRequest.toFixed(2)} CPU-ms/request -> ` +
    `${s.pass ? 'pass' : 'FAIL'}`
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rates = process.argv.slice(2).map(Number);
  if (rates.length === 0 || rates.some((r) => !Number.isFinite(r) || r <= 0)) {
    process.stderr.write('usage: stack-floor.ts <requests/s> [<requests/s> …]\n');
    process.exit(2);
  }
  const floor = await startStackFloor();
  try {
    await floor.step(100, { warmupMs: 0, durationMs: 5_000 });
    for (const rate of rates) process.stdout.write(`floor ${describeFloorStep(await floor.step(rate))}\n`);
  } finally {
    await floor.close();
  }
}
