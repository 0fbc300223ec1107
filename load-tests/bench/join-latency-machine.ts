/** What the join-latency benchmark measures of the machine it runs on (Linux `/proc`). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

export interface Cpu {
  wallSeconds: number;
  chromium: number;
  quorum: number;
  mediasoup: number;
}

/**
 * CPU seconds used so far by each process tree (Linux /proc): Chromium (the browser and its
 * renderer, GPU and utility processes), the Quorum process, and its mediasoup worker. Processes
 * that already exited are not counted.
 */
export function cpuSeconds(quorumPid: number | undefined): Omit<Cpu, 'wallSeconds'> {
  const out = { chromium: 0, quorum: 0, mediasoup: 0 };
  if (!existsSync('/proc/self/stat')) return out;
  const procs = new Map<number, { ppid: number; comm: string; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we listed /proc
    }
    // "pid (comm) state ppid … utime stime …": comm may hold spaces, so split after its ')'.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    procs.set(Number(entry), {
      ppid: Number(fields[1]),
      comm: stat.slice(stat.indexOf('(') + 1, close),
      ticks: Number(fields[11]) + Number(fields[12]),
    });
  }
  const ticksPerSecond = 100; // USER_HZ on Linux
  for (const [pid, p] of procs) {
    // Quorum and its worker descend from the Quorum process; Chromium's processes from this one.
    let chromium = false;
    for (let at: number | undefined = pid, hops = 0; at && hops < 64; at = procs.get(at)?.ppid, hops++) {
      if (at === quorumPid) {
        out[p.comm.startsWith('mediasoup') ? 'mediasoup' : 'quorum'] += p.ticks / ticksPerSecond;
        break;
      }
      chromium ||= /chrom/i.test(procs.get(at)?.comm ?? '');
      if (at === process.pid) {
        if (chromium) out.chromium += p.ticks / ticksPerSecond;
        break;
      }
    }
  }
  return out;
}

/** Busy and total jiffies of the whole machine (the first line of /proc/stat). */
function machineJiffies(): { busy: number; total: number } | undefined {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    const v = fields.map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - v[3]! - v[4]!, total }; // idle and iowait are not busy
  } catch {
    return undefined; // not Linux
  }
}

/**
 * How busy the machine is, sampled every 100 ms: `saturatedShare(from, to)` answers the share
 * of that span (this process's `performance.now()` ms) in which the CPUs were at least 95% busy.
 */
export function machineSampler() {
  const samples: Array<{ at: number; busy: number }> = [];
  let last = machineJiffies();
  const timer = setInterval(() => {
    const now = machineJiffies();
    if (now && last && now.total > last.total)
      samples.push({ at: performance.now(), busy: (now.busy - last.busy) / (now.total - last.total) });
    last = now;
  }, 100);
  return {
    saturatedShare(from: number, to: number): number {
      // A sample covers the 100 ms before its time stamp.
      const inside = samples.filter((x) => x.at > from && x.at - 100 < to);
      return inside.length ? inside.filter((x) => x.busy >= 0.95).length / inside.length : Number.NaN;
    },
    stop: () => clearInterval(timer),
  };
}

/** Starts on a quiet machine: waits (up to 3 min) for the 1-minute load average to drop below half the cores. */
export async function quiet(log: (line: string) => void): Promise<void> {
  const limit = os.availableParallelism() / 2;
  const deadline = Date.now() + 180_000;
  if (os.loadavg()[0]! >= limit)
    log(`waiting for the load average (${os.loadavg()[0]!.toFixed(2)}) to drop below ${limit}…`);
  while (os.loadavg()[0]! >= limit && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5_000));
}
