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
}

/**
 * A catch-up subscription over a store that can be read by position: reads batches until
 * it is caught up, then waits for a change and reads again. Events are yielded strictly in
 * position order and each exactly once.
 */
export function createCatchUpSubscription(options: CatchUpSubscriptionOptions): AllSubscription {
  const abort = new AbortController();
  let cursor = options.fromPosition;

  async function* iterate(): AsyncGenerator<RecordedEvent> {
    while (!abort.signal.aborted) {
      const batch = await options.read(cursor, options.batchSize);
      for (const event of batch) {
        if (abort.signal.aborted) return;
        cursor = event.position;
        yield event;
      }
      if (batch.length < options.batchSize) await options.waitForChange(abort.signal);
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
