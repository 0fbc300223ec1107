/**
 * In-process `EventBus` for the embedded default and unit tests. It mirrors the JetStream
 * adapter's observable semantics: one ordered log for `evt.>`, dedupe by id within the window,
 * durable consumers whose position survives `close()`, redelivery with a growing delivery count.
 *
 * It is stricter than JetStream in one way: a consumer handles one message at a time and retries
 * a failed message before moving on, so order holds even across failures. A durable may have
 * only one active consumer at a time (JetStream would share the work).
 */
import { BusError } from '../bus-error';
import { decodePayload, encodePayload } from '../codec';
import {
  assertDurableName,
  assertHandlers,
  assertPublishable,
  DEFAULT_MAX_BATCH,
  defaultRedeliveryDelayMs,
  failedAck,
  notAttempted,
  warnBusError,
  type BusMessage,
  type ConsumeOptions,
  type Consumer,
  type DeliveredMessage,
  type EventBus,
  type PublishAck,
} from '../event-bus';
import { assertFilterSubject, DUPLICATE_WINDOW_MS, EVENTS_SUBJECTS, subjectMatches } from '../subject';

export interface MemoryBusOptions {
  /** Clock for the duplicate window; injected by tests. Default `Date.now`. */
  readonly now?: () => number;
  /** Default {@link DUPLICATE_WINDOW_MS}. */
  readonly duplicateWindowMs?: number;
}

interface StoredMessage {
  readonly id: string;
  readonly subject: string;
  readonly position: bigint;
  readonly previousPosition: bigint | undefined;
  /** Stored encoded, so a consumer can never mutate what another one sees. */
  readonly data: Uint8Array;
}

interface DurableState {
  readonly filterSubjects: readonly string[];
  /** Index in the log of the next message to deliver. */
  next: number;
  /** Deliveries so far of the message at `next`. */
  deliveries: number;
  active: boolean;
}

/** Creates an empty in-process bus. */
export function createMemoryBus(options: MemoryBusOptions = {}): EventBus {
  return new MemoryBus(options.now ?? Date.now, options.duplicateWindowMs ?? DUPLICATE_WINDOW_MS);
}

class MemoryBus implements EventBus {
  private readonly log: StoredMessage[] = [];
  private readonly seenAt = new Map<string, number>();
  private readonly durables = new Map<string, DurableState>();
  private readonly consumers = new Set<MemoryConsumer>();
  private closed = false;

  constructor(
    private readonly now: () => number,
    private readonly duplicateWindowMs: number,
  ) {}

  async ensureStream(): Promise<void> {
    this.assertOpen();
  }

  async publish(messages: readonly BusMessage[]): Promise<PublishAck[]> {
    this.assertOpen();
    assertPublishable(messages);
    const encoded = messages.map((message) => encodePayload(message.payload, message.id));
    const acks: PublishAck[] = [];
    let failure: BusError | undefined;
    messages.forEach((message, index) => {
      if (failure) {
        acks.push(notAttempted(message, failure));
        return;
      }
      if (!subjectMatches(EVENTS_SUBJECTS, message.subject)) {
        // JetStream answers "no responders" when no stream captures the subject.
        failure = new BusError('REJECTED', `no stream captures subject ${message.subject}`);
        acks.push(failedAck(message, failure));
        return;
      }
      const now = this.now();
      const seen = this.seenAt.get(message.id);
      if (seen !== undefined && now - seen < this.duplicateWindowMs) {
        acks.push({ ok: true, id: message.id, position: message.position, duplicate: true });
        return;
      }
      this.seenAt.set(message.id, now);
      this.log.push({
        id: message.id,
        subject: message.subject,
        position: message.position,
        previousPosition: message.previousPosition,
        data: encoded[index]!,
      });
      acks.push({ ok: true, id: message.id, position: message.position, duplicate: false });
    });
    this.pruneSeen();
    for (const consumer of this.consumers) consumer.wake();
    return acks;
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    this.assertOpen();
    assertDurableName(options.durableName);
    assertHandlers(options);
    const filterSubjects = options.filterSubjects?.length ? [...options.filterSubjects] : [EVENTS_SUBJECTS];
    filterSubjects.forEach(assertFilterSubject);

    let state = this.durables.get(options.durableName);
    if (!state) {
      state = { filterSubjects, next: 0, deliveries: 0, active: false };
      this.durables.set(options.durableName, state);
    } else if (!sameFilters(state.filterSubjects, filterSubjects)) {
      throw new BusError(
        'CONFLICT',
        `durable ${options.durableName} filters ${state.filterSubjects.join(',')}, not ${filterSubjects.join(',')}`,
      );
    }
    if (state.active) {
      throw new BusError(
        'CONFLICT',
        `durable ${options.durableName} already has an active consumer on this memory bus`,
      );
    }
    state.active = true;
    const consumer = new MemoryConsumer(this.log, state, options, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    consumer.start();
    return consumer;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((consumer) => consumer.close()));
  }

  private assertOpen(): void {
    if (this.closed) throw new BusError('CLOSED', 'memory bus is closed');
  }

  private pruneSeen(): void {
    const cutoff = this.now() - this.duplicateWindowMs;
    for (const [id, at] of this.seenAt) {
      if (at > cutoff) break; // insertion order is time order
      this.seenAt.delete(id);
    }
  }
}

class MemoryConsumer implements Consumer {
  private closing = false;
  private wakeUp: (() => void) | undefined;
  private cancelSleep: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly redeliveryDelayMs: (deliveryCount: number) => number;
  private readonly onError: (error: BusError) => void;

  constructor(
    private readonly log: readonly StoredMessage[],
    private readonly state: DurableState,
    private readonly options: ConsumeOptions,
    private readonly onClosed: () => void,
  ) {
    this.redeliveryDelayMs = options.redeliveryDelayMs ?? defaultRedeliveryDelayMs;
    this.onError = options.onError ?? warnBusError;
  }

  start(): void {
    this.loop = this.run();
  }

  wake(): void {
    this.wakeUp?.();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.wake();
    this.cancelSleep?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    try {
      while (!this.closing) {
        const stored = this.log[this.state.next];
        if (!stored) {
          await new Promise<void>((resolve) => (this.wakeUp = resolve));
          this.wakeUp = undefined;
          continue;
        }
        if (!this.state.filterSubjects.some((filter) => subjectMatches(filter, stored.subject))) {
          this.advance();
          continue;
        }
        if (this.options.batchHandler) await this.deliverBatch();
        else await this.deliver(stored);
      }
    } finally {
      this.state.active = false;
      this.onClosed();
    }
  }

  private async deliver(stored: StoredMessage): Promise<void> {
    let payload: unknown;
    try {
      payload = decodePayload(stored.data, stored.id);
    } catch (error) {
      // Mirrors the NATS adapter: an undecodable message is terminated, not retried forever.
      this.onError(error instanceof BusError ? error : new BusError('DECODE', String(error), { cause: error }));
      this.advance();
      return;
    }
    this.state.deliveries += 1;
    const message: DeliveredMessage = {
      id: stored.id,
      subject: stored.subject,
      position: stored.position,
      ...(stored.previousPosition === undefined ? {} : { previousPosition: stored.previousPosition }),
      payload,
      deliveryCount: this.state.deliveries,
    };
    try {
      await this.options.handler!(message);
      this.advance();
    } catch {
      // The handler owns its error (it logs or dead-letters); the bus's job is to redeliver.
      await this.sleep(this.redeliveryDelayMs(message.deliveryCount));
    }
  }

  /** Hands over every matching message already in the log (up to maxBatch), as NATS would. */
  private async deliverBatch(): Promise<void> {
    const maxBatch = this.options.maxBatch ?? DEFAULT_MAX_BATCH;
    const messages: DeliveredMessage[] = [];
    const firstAttempt = this.state.deliveries === 0;
    this.state.deliveries += 1;
    let end = this.state.next;
    for (; end < this.log.length && messages.length < maxBatch; end++) {
      const stored = this.log[end]!;
      if (!this.state.filterSubjects.some((filter) => subjectMatches(filter, stored.subject))) continue;
      try {
        messages.push({
          id: stored.id,
          subject: stored.subject,
          position: stored.position,
          ...(stored.previousPosition === undefined ? {} : { previousPosition: stored.previousPosition }),
          payload: decodePayload(stored.data, stored.id),
          deliveryCount: this.state.deliveries,
        });
      } catch (error) {
        if (firstAttempt)
          this.onError(error instanceof BusError ? error : new BusError('DECODE', String(error), { cause: error }));
      }
    }
    if (messages.length > 0) {
      try {
        await this.options.batchHandler!(messages);
      } catch {
        await this.sleep(this.redeliveryDelayMs(this.state.deliveries));
        return;
      }
    }
    this.state.next = end;
    this.state.deliveries = 0;
  }

  private advance(): void {
    this.state.next += 1;
    this.state.deliveries = 0;
  }

  /** A sleep that `close()` cuts short. */
  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.cancelSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.cancelSleep = undefined;
  }
}

function sameFilters(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((value, index) => value === [...b].sort()[index]);
}
