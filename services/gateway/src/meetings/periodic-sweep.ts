/**
 * A sweep that runs every `intervalMs` (0: only when called) and never twice at once: a call
 * while one runs gets that one's result. Failures of timed runs are logged; `stop()` waits for
 * the run in flight.
 */
import type { Logger } from 'pino';

export interface PeriodicSweep {
  /** One pass now (or the pass in flight); resolves with what it counted. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export function startPeriodicSweep(
  what: string,
  logger: Logger,
  intervalMs: number,
  sweepOnce: () => Promise<number>,
): PeriodicSweep {
  let running: Promise<number> | undefined;
  const sweep = () => (running ??= sweepOnce().finally(() => (running = undefined)));
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          sweep().catch((err: unknown) => logger.warn({ err }, `${what} failed`));
        }, intervalMs)
      : undefined;
  timer?.unref();
  return {
    sweep,
    async stop() {
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
