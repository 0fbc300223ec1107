/**
 * The catch-up subscription's read pacing (`minReadIntervalMs`), on fake timers: appends that
 * land within the interval of a read that found events come in one read; the first read after a
 * quiet spell, and reads while catching up, are not held.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChangeNotifier, createCatchUpSubscription } from './catch-up-subscription';
import type { AllSubscription, RecordedEvent } from './event-store';

const POLL_MS = 50;
const INTERVAL_MS = 20;

function recorded(position: bigint): RecordedEvent {
  const event: RecordedEvent = {
    id: `00000000-0000-4000-8000-${position.toString().padStart(12, '0')}`,
    type: 'paced',
    version: 1,
    data: null,
    metadata: { orgId: 'o', actor: { kind: 'system', id: 't' }, correlationId: 'c', causationId: null },
    streamId: 's',
    revision: position - 1n,
    position,
    occurredAt: new Date(0),
  };
  return event;
}

/** An in-memory log with a subscription over it that records when each read happened. */
function harness(batchSize = 100) {
  const log: RecordedEvent[] = [];
  const reads: Array<{ at: number; count: number }> = [];
  const notifier = new ChangeNotifier(POLL_MS);
  const subscription = createCatchUpSubscription({
    fromPosition: 0n,
    batchSize,
    minReadIntervalMs: INTERVAL_MS,
    read: async (from, maxCount) => {
      const events = log.filter((e) => e.position > from).slice(0, maxCount);
      reads.push({ at: Date.now(), count: events.length });
      return events;
    },
    waitForChange: (signal) => notifier.wait(signal),
  });
  const append = (n = 1) => {
    for (let i = 0; i < n; i++) log.push(recorded(BigInt(log.length + 1)));
    notifier.notify();
  };
  const received: Array<{ at: number; position: bigint }> = [];
  const consuming = (async () => {
    for await (const e of subscription) received.push({ at: Date.now(), position: e.position });
  })();
  return { append, reads, received, subscription, consuming };
}

describe('catch-up subscription read pacing', () => {
  let h: ReturnType<typeof harness> & { subscription: AllSubscription };

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
  });

  afterEach(async () => {
    await h.subscription.close();
    await vi.runAllTimersAsync();
    await h.consuming;
    vi.useRealTimers();
  });

  it('reads appends that land within the interval of a read together, at the interval', async () => {
    h = harness();
    await vi.advanceTimersByTimeAsync(100); // caught up and idle; polls found nothing
    const start = Date.now();
    h.append();
    await vi.advanceTimersByTimeAsync(0);
    // After a quiet spell the first append is read at once.
    expect(h.received.map((r) => r.at - start)).toEqual([0]);
    const readsBefore = h.reads.filter((r) => r.count > 0).length;
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(3);
      h.append();
    }
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    // The four appends within the interval came in one read, when the interval ended.
    const fruitful = h.reads.filter((r) => r.count > 0);
    expect(fruitful.length - readsBefore).toBe(1);
    expect(fruitful.at(-1)).toEqual({ at: start + INTERVAL_MS, count: 4 });
    expect(h.received.map((r) => r.position)).toEqual([1n, 2n, 3n, 4n, 5n]);
  });

  it('a poll that found nothing opens no interval: an append just after it is read at once', async () => {
    h = harness();
    await vi.advanceTimersByTimeAsync(POLL_MS * 3); // several empty polls
    const lastPoll = h.reads.at(-1)!.at;
    await vi.advanceTimersByTimeAsync(lastPoll + 2 - Date.now());
    const at = Date.now();
    h.append();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.received).toEqual([{ at, position: 1n }]);
  });

  it('catching up reads batch after batch without pausing', async () => {
    h = harness(10);
    await vi.advanceTimersByTimeAsync(POLL_MS * 2);
    h.append(35);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.received).toHaveLength(35);
    expect(new Set(h.received.map((r) => r.at)).size).toBe(1);
    // Four reads that found events: three full batches and the rest.
    expect(h.reads.filter((r) => r.count > 0).map((r) => r.count)).toEqual([10, 10, 10, 5]);
  });
});
