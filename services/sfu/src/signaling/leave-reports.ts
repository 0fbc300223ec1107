/**
 * Leaves on their way to the gateway. A leave the gateway does not answer (it is restarting, the
 * network dropped, it timed out, it answered 5xx) is tried again, with a pause that doubles from
 * `firstDelayMs` to `maxDelayMs`, for up to `retryForMs`; each report carries the time the SFU
 * saw the leave, so the durations on the session stream stay right however late it lands, and
 * one Idempotency-Key, so an attempt that landed before its answer was lost is not recorded twice.
 * A refusal (the participant is gone already, the meeting ended, the input is bad) is final.
 *
 * A participant who comes back to this node while their leave is still pending cancels it: the
 * stream never saw them leave, which is the truth up to the gap. An attempt already sent is
 * waited for first, so the join that follows is decided after it.
 *
 * On shutdown, {@link LeaveReports.flush} gives every pending leave one last attempt at once;
 * what still does not land is logged with everything an operator needs to end the meeting.
 */
import type { Logger } from 'pino';
import { isFinalRefusal, type LeaveReport, type SessionReporter } from './session-reporter';

export interface LeaveReportsOptions {
  reporter: SessionReporter;
  logger: Logger;
  /** How long a leave is retried while the gateway does not take it. Default 10 min. */
  retryForMs?: number;
  /** The first pause between attempts; it doubles up to `maxDelayMs`. Defaults 1 s and 30 s. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
}

interface Pending {
  readonly report: LeaveReport;
  cancelled: boolean;
  /** The attempt on its way, if one is. */
  attempt: Promise<void> | undefined;
  /** Ends the pause before the next attempt early (cancel, flush). */
  wake: (() => void) | undefined;
  /** Settles when this leave is recorded, refused, cancelled or given up. */
  done: Promise<void>;
}

const key = (sessionId: string, participantId: string) => `${sessionId}/${participantId}`;

export class LeaveReports {
  private readonly pending = new Map<string, Pending>();
  private readonly retryForMs: number;
  private readonly firstDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly now: () => number;
  private flushing = false;

  constructor(private readonly options: LeaveReportsOptions) {
    this.retryForMs = options.retryForMs ?? 10 * 60_000;
    this.firstDelayMs = options.firstDelayMs ?? 1_000;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** Leaves not yet taken by the gateway (in flight or waiting to be tried again). */
  get size(): number {
    return this.pending.size;
  }

  /** Reports a leave, and keeps trying while the gateway does not answer. */
  report(report: LeaveReport): void {
    const k = key(report.sessionId, report.participantId);
    const previous = this.pending.get(k);
    if (previous) {
      previous.cancelled = true;
      previous.wake?.();
    }
    const entry: Pending = { report, cancelled: false, attempt: undefined, wake: undefined, done: Promise.resolve() };
    this.pending.set(k, entry);
    entry.done = this.run(k, entry);
  }

  /**
   * The participant is back: their pending leave is not reported. Resolves once no attempt of
   * it is in flight any more (one already sent may still have landed).
   */
  async cancel(sessionId: string, participantId: string): Promise<void> {
    const entry = this.pending.get(key(sessionId, participantId));
    if (!entry) return;
    entry.cancelled = true;
    entry.wake?.();
    await entry.done;
  }

  /** Shutting down: every pending leave gets one more attempt now; resolves when all are settled. */
  async flush(): Promise<void> {
    this.flushing = true;
    const entries = [...this.pending.values()];
    for (const e of entries) e.wake?.();
    await Promise.all(entries.map((e) => e.done));
  }

  private async run(k: string, entry: Pending): Promise<void> {
    const { report } = entry;
    const log = {
      sessionId: report.sessionId,
      participantId: report.participantId,
      reason: report.reason,
      at: report.at,
    };
    const giveUpAt = this.now() + this.retryForMs;
    let delay = this.firstDelayMs;
    try {
      for (let attempt = 1; ; attempt++) {
        if (entry.cancelled) return;
        entry.attempt = this.options.reporter.left(report);
        try {
          await entry.attempt;
          if (attempt > 1) this.options.logger.info({ ...log, attempt }, 'a leave reported late was recorded');
          return;
        } catch (err) {
          if (isFinalRefusal(err)) {
            this.options.logger.warn({ ...log, err }, 'the gateway refused a leave report');
            return;
          }
          if (this.flushing || this.now() + delay > giveUpAt) {
            this.options.logger.error(
              { ...log, err, attempts: attempt },
              'a leave could not be reported: the session stream still counts this participant present (end the meeting with meetings.end)',
            );
            return;
          }
          this.options.logger.warn(
            { ...log, err, attempt, retryInMs: delay },
            'could not report a leave; trying again',
          );
        } finally {
          entry.attempt = undefined;
        }
        if (entry.cancelled) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          entry.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        entry.wake = undefined;
        delay = Math.min(delay * 2, this.maxDelayMs);
      }
    } finally {
      if (this.pending.get(k) === entry) this.pending.delete(k);
    }
  }
}
