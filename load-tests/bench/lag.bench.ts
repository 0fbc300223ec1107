/**
 * (b) Command-to-read-model lag at a steady command rate, over HTTP, through NATS.
 *
 * Quorum runs as a child process (its own event loop) on a fresh database and a unique NATS
 * namespace. Set-up signs up a few users, creates organizations on the `business` plan and
 * buys each 10 seats. Then an open-loop schedule sends one command every `1000 / rate` ms,
 * round-robin across the organizations, alternating `seats.purchase` / `seats.release` of one
 * seat per organization (so no release can find zero seats). A command's lag is the time
 * from sending it until `seats.get?minPosition=<its position>` answers: the gateway releases
 * that query the moment the projector has applied the position. The same query on an
 * already-applied position is timed separately (`queryOverhead`) so the reader can see how
 * much of the lag is the query's own round trip.
 */
import pg from 'pg';
import { commandFor, startBenchQuorum, type BenchQuorum } from './bench-quorum';
import { readCoreCheckpoint } from './lag-probe';
import { procCpuMs } from './quorum-child';
import { sleep, summarize, type Summary } from './stats';

export interface LagBenchResult {
  targetRate: number;
  durationMs: number;
  orgs: number;
  users: number;
  commands: number;
  /** Commands sent per second between the first and the last send. */
  achievedRate: number;
  /** How late sends were against the open-loop schedule. */
  scheduleSlip: Summary;
  commandLatency: Summary;
  lag: Summary;
  queryOverhead: Summary;
  /** Send to the answer of a `minPosition` read of the same change, for one command in ten. */
  readYourWrites: Summary;
  /** Worst lag among the commands sent in each second, in ms. */
  worstLagBySecond: number[];
  errors: number;
  errorSamples: string[];
  childCpuPercent: number;
  benchCpuPercent: number;
  childWarnings: number;
  target: { maxP99Ms: number; pass: boolean; rateKept: boolean };
}

export interface LagBenchOptions {
  rate?: number;
  durationMs?: number;
  orgs?: number;
  users?: number;
  log?: (line: string) => void;
}

const DRAIN_MS = 60_000;
/** Unmeasured ramp from 0 to the target rate before the measured window. */
const RAMP_MS = 10_000;

export async function runLagBench(options: LagBenchOptions = {}): Promise<LagBenchResult> {
  const rate = options.rate ?? 500;
  const durationMs = options.durationMs ?? 20_000;
  const orgCount = options.orgs ?? 50;
  const userCount = options.users ?? 5; // sign-up is limited to 20 per IP per hour
  const log = options.log ?? (() => {});
  let quorum: BenchQuorum | undefined;
  try {
    quorum = await startBenchQuorum({ orgs: orgCount, users: userCount, log });
    const { child, client: c, orgs, setupPosition: lastPosition } = quorum;
    const database = quorum.database;

    // The query's own cost on a position the read model already has.
    const overhead: number[] = [];
    for (let k = 0; k < 300; k++) {
      const org = orgs[k % orgs.length]!;
      const t0 = performance.now();
      await c.call<unknown>('GET', 'seats.get', { orgId: org.orgId, minPosition: lastPosition }, org.token);
      if (k >= 50) overhead.push(performance.now() - t0);
    }
    log(`  set-up: ${userCount} users, ${orgCount} business orgs; open loop ${rate}/s for ${durationMs / 1000} s`);

    // Open loop: each command is sent when it is due, whatever happened to earlier ones. A
    // ramp from 0 to the rate over RAMP_MS warms the process (JIT, pool, caches) and is not
    // measured; the measured window is the steady rate that follows.
    const interval = 1_000 / rate;
    const rampCount = Math.round(((RAMP_MS / 1_000) * rate) / 2);
    const total = Math.round((durationMs / 1_000) * rate);
    const dueAt = (i: number) =>
      i < rampCount ? Math.sqrt(((2 * RAMP_MS * i) / rate) * 1_000) : RAMP_MS + (i - rampCount) * interval;
    const slip: number[] = [];
    const cmdLatency: number[] = [];
    const lags: number[] = [];
    const errorSamples: string[] = [];
    let errors = 0;
    let firstSend = Number.NaN;
    let lastSend = Number.NaN;
    const inflight = new Set<Promise<void>>();
    let abandoned = false;

    /** Worst lag of the commands sent in each second of the run. */
    const lagBySecond: number[] = [];
    let runStart = performance.now();
    // The lag probe: one connection polls the active projection's checkpoint every 2 ms and
    // settles every command whose position it has reached. Following each command with a
    // read-your-writes query instead would double the load being measured, so only one
    // command in ten is also read back with `minPosition`, as a client would.
    const probe = new pg.Client({ connectionString: database.url });
    await probe.connect();
    const pending: Array<{ position: bigint; sentAt: number }> = [];
    let probing = true;
    const probeLoop = (async () => {
      while (probing) {
        const reached = await readCoreCheckpoint(probe);
        const now = performance.now();
        for (let k = pending.length - 1; k >= 0; k--) {
          const w = pending[k]!;
          if (w.position <= reached) {
            if (!abandoned) {
              lags.push(now - w.sentAt);
              const second = Math.floor((w.sentAt - runStart) / 1_000);
              lagBySecond[second] = Math.max(lagBySecond[second] ?? 0, now - w.sentAt);
            }
            pending.splice(k, 1);
          }
        }
        await sleep(2);
      }
    })();
    const ryw: number[] = [];

    const fire = (i: number, due: number) => {
      const { org, procedure } = commandFor(orgs, i);
      const sentAt = performance.now();
      const measured = i >= rampCount;
      if (measured) {
        if (Number.isNaN(firstSend)) firstSend = sentAt;
        lastSend = sentAt;
        slip.push(sentAt - due);
      }
      const p = (async () => {
        try {
          const r = await c.call<{ position: string }>('POST', procedure, { orgId: org.orgId, quantity: 1 }, org.token);
          if (abandoned) return;
          if (!measured) return;
          cmdLatency.push(performance.now() - sentAt);
          pending.push({ position: BigInt(r.position), sentAt });
          if (i % 10 === 0) {
            await c.call<unknown>('GET', 'seats.get', { orgId: org.orgId, minPosition: r.position }, org.token);
            if (!abandoned) ryw.push(performance.now() - sentAt);
          }
        } catch (err) {
          if (abandoned) return;
          errors++;
          if (errorSamples.length < 5) errorSamples.push((err as Error).message);
        }
      })();
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    };

    const childCpu0 = procCpuMs(child.proc.pid!);
    const benchCpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const start = performance.now() + 20;
    runStart = start + RAMP_MS;
    const all = rampCount + total;
    let i = 0;
    while (i < all) {
      const now = performance.now();
      while (i < all && start + dueAt(i) <= now) {
        fire(i, start + dueAt(i));
        i++;
      }
      if (i < all) await sleep(Math.max(0, Math.floor(start + dueAt(i) - performance.now())));
    }
    // Bounded drain: whatever has not finished 60 s after the last send counts as an error.
    const drained = await Promise.race([
      Promise.all([...inflight]).then(() => true),
      sleep(DRAIN_MS).then(() => false),
    ]);
    if (!drained) {
      abandoned = true;
      errors += inflight.size;
      errorSamples.push(`${inflight.size} commands still unanswered ${DRAIN_MS / 1000} s after the last send`);
    }
    const settleDeadline = performance.now() + 10_000;
    while (pending.length > 0 && performance.now() < settleDeadline) await sleep(5);
    if (pending.length > 0) {
      errors += pending.length;
      errorSamples.push(`${pending.length} acknowledged commands never reached the read model within 10 s`);
    }
    probing = false;
    await probeLoop;
    await probe.end();
    const wallMs = performance.now() - wall0;
    const childCpuPercent = ((procCpuMs(child.proc.pid!) - childCpu0) / wallMs) * 100;
    const cpu = process.cpuUsage(benchCpu0);
    const benchCpuPercent = ((cpu.user + cpu.system) / 1_000 / wallMs) * 100;

    const achievedRate = total > 1 ? ((total - 1) / (lastSend - firstSend)) * 1_000 : 0;
    const lag = summarize(lags);
    const rateKept = achievedRate >= rate * 0.97;
    return {
      targetRate: rate,
      durationMs,
      orgs: orgCount,
      users: userCount,
      commands: total,
      achievedRate,
      scheduleSlip: summarize(slip),
      commandLatency: summarize(cmdLatency),
      lag,
      queryOverhead: summarize(overhead),
      readYourWrites: summarize(ryw),
      worstLagBySecond: Array.from(lagBySecond, (v) => Math.round(v ?? 0)),
      errors,
      errorSamples,
      childCpuPercent,
      benchCpuPercent,
      childWarnings: child.warnings(),
      target: { maxP99Ms: 100, pass: errors === 0 && lag.count === total && lag.p99 < 100, rateKept },
    };
  } finally {
    await quorum?.close();
  }
}
