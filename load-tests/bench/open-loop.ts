/** The open loop shared by the bench's steps: sends on a schedule, never waiting for answers. */
import { procCpuMs } from './quorum-child';
import { sleep } from './stats';

/**
 * Calls `send(i)` for i = 0 … count − 1, the i-th i / `rate` seconds after the start (5 ms from
 * now); sends that fell behind the schedule go at once, in order.
 */
export async function openLoop(count: number, rate: number, send: (i: number) => void): Promise<void> {
  const interval = 1_000 / rate;
  const start = performance.now() + 5;
  let i = 0;
  while (i < count) {
    const now = performance.now();
    while (i < count && start + i * interval <= now) send(i++);
    if (i < count) await sleep(Math.max(0, Math.floor(start + i * interval - performance.now())));
  }
}

/** CPU-ms per ms a process spends while idle, watched for `ms`. */
export async function idleCpuPerMs(pid: number, ms: number): Promise<number> {
  const cpu0 = procCpuMs(pid);
  const t0 = performance.now();
  await sleep(ms);
  return (procCpuMs(pid) - cpu0) / (performance.now() - t0);
}
