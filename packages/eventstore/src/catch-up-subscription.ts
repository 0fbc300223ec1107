import type { AllSubscription, RecordedEvent } from './event-store';

export interface CatchUpSubscriptionOptions {
  /** Reads up to `maxCount` events strictly after `from`, in position order. */
  read(from: bigint, maxCount: number): Promise<RecordedEvent[]>;
  fromPosition: bigint;
  batchSize: number;
  /**
   * Resolves when new events may be readable: on a local append, after the poll interval,
   * or when `signal` aborts.
   */
  waitForChange(signal: AbortSignal): Promise<void>;
  /**
   * Least time from the start of one read to the start of the next once caught up (default 0):
   * what is appended meanwhile is read together, one batch for the relay, the bus and the
   * projector instead of one per append. A read after a quiet spell longer than this starts at
   * once (a read that found nothing does not count); catching up reads back to back.
   */
  minReadIntervalMs?: number;
}

/**
 * A catch-up subscription over a store that can be read by position: reads batches until
 * it is caught up, then waits for a change and reads again. Events are yielded strictly in
 * position order and each exactly once.
 */
export function createCatchUpSubscription(options: CatchUpSubscriptionOptions): AllSubscription {
  const abort = new AbortController();
  let cursor = options.fromPosition;

  const interval = options.minReadIntervalMs ?? 0;

  async function* iterate(): AsyncGenerator<RecordedEvent> {
    // When the last read that found events began: an empty read (a poll) opens no interval.
    let windowAt = -Infinity;
    while (!abort.signal.aborted) {
      const readAt = performance.now();
      const batch = await options.read(cursor, options.batchSize);
      if (batch.length > 0) windowAt = readAt;
      for (const event of batch) {
        if (abort.signal.aborted) return;
        cursor = event.position;
        yield event;
      }
      if (batch.length < options.batchSize) {
        await options.waitForChange(abort.signal);
        await pause(windowAt + interval - performance.now(), abort.signal);
      }
    }
  }

  const generator = iterate();
  return {
    [Symbol.asyncIterator]: () => generator,
    async close() {
      abort.abort();
    },
  };
}

/** Resolves after `ms` (at once when it is not positive), or when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Wakes waiting subscribers when this process appends, and on a poll interval otherwise. */
export class ChangeNotifier {
  private waiters = new Set<() => void>();

  constructor(private readonly pollIntervalMs: number) {}

  notify(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.pollIntervalMs);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }
}
