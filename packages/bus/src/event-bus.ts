/**
 * The `EventBus` port: how the relay hands committed events to consumers (projector, billing,
 * webhooks, SFU). Delivery is at least once; consumers get exactly-once effects themselves
 * (checkpoints, effects tables), so handlers must tolerate a repeat.
 */
import { BusError } from './bus-error';
import { assertPublishSubject } from './subject';
import { MessageIdSchema } from './codec';

/** One event as the bus sees it. */
export interface BusMessage {
  /** Event id; the bus deduplicates on it (`Nats-Msg-Id`) within `DUPLICATE_WINDOW_MS` (subject.ts). */
  readonly id: string;
  /** `evt.<orgId>.<category>.<type>`, see `eventSubject`. */
  readonly subject: string;
  /** Global position in the event store. */
  readonly position: bigint;
  /**
   * Position of the event just before this one in the store (`0n` for the first), when the
   * publisher knows it (the relay does). A consumer of every subject can then see that it got
   * every event in between without reading the store; when it is absent or does not follow
   * on, the consumer must read the store.
   */
  readonly previousPosition?: bigint;
  /** Any JSON-serializable value (the event envelope). */
  readonly payload: unknown;
}

/** A message handed to a consumer's handler. */
export interface DeliveredMessage extends BusMessage {
  /** 1 on first delivery, 2 on the first redelivery, and so on. */
  readonly deliveryCount: number;
}

/**
 * Outcome of publishing one message. `publish` returns one per input message, in input order.
 * Messages are sent in input order and may be pipelined: after a failure, later messages of
 * the batch may have been stored or may be `NOT_ATTEMPTED`, so a stream can hold a later
 * position before an earlier one that failed. Consumers must not infer completeness from
 * delivery order (the projector reads the store up to a delivered position).
 * {@link lastContiguousPosition} gives the position a relay may checkpoint.
 */
export type PublishAck =
  | { readonly ok: true; readonly id: string; readonly position: bigint; readonly duplicate: boolean }
  | {
      readonly ok: false;
      readonly id: string;
      readonly position: bigint;
      readonly duplicate: false;
      readonly error: BusError;
    };

export interface ConsumeOptions {
  /** Durable consumer name: letters, digits, `-` and `_`. Its position survives `close()`. */
  readonly durableName: string;
  /**
   * Subjects to receive (wildcards allowed); all of `evt.>` when omitted. Fixed when the durable
   * is first created: reopening it with other filters fails with `CONFLICT`.
   */
  readonly filterSubjects?: readonly string[];
  /** Most messages delivered but not yet acknowledged. Default 1,000. `1` gives strict order even across failures. */
  readonly maxAckPending?: number;
  /**
   * Called once per delivery. Resolving acknowledges the message; throwing asks for a redelivery
   * (after `redeliveryDelayMs`). Messages already delivered behind a failed one may be handled
   * before its redelivery unless `maxAckPending` is 1. Give this or `batchHandler`.
   */
  readonly handler?: (message: DeliveredMessage) => Promise<void>;
  /**
   * Called with the messages already delivered and waiting (at least one, at most `maxBatch`),
   * in stream order, without waiting for more: a lone message is handed over at once, a burst
   * arrives as one batch. Resolving acknowledges them all; throwing asks for all of them again.
   * A consumer that must never see a later message before an earlier one (the projector)
   * retries inside the handler instead of throwing.
   */
  readonly batchHandler?: (messages: readonly DeliveredMessage[]) => Promise<void>;
  /** Largest batch given to `batchHandler`. Default 500. */
  readonly maxBatch?: number;
  /** Delay before redelivering a failed message, by its delivery count. Default 100 ms doubling to 30 s. */
  readonly redeliveryDelayMs?: (deliveryCount: number) => number;
  /**
   * Errors the consumer cannot throw to anyone: undecodable messages (terminated, never
   * redelivered) and lost server contact (retried). Default: `console.warn`.
   */
  readonly onError?: (error: BusError) => void;
}

/** A running consumer. */
export interface Consumer {
  /** Stops fetching, waits for the handler in progress to finish and acknowledge. Idempotent. */
  close(): Promise<void>;
}

export interface EventBus {
  /** Creates the `EVENTS` stream (`evt.>`, 2-minute duplicate window) if missing. Idempotent. */
  ensureStream(): Promise<void>;
  /**
   * Publishes in order and reports one {@link PublishAck} per message.
   * @throws {BusError} `INVALID` (before sending anything) for a bad id, subject or payload;
   *   `CLOSED` after `close()`. Server failures are reported in the acks, not thrown.
   */
  publish(messages: readonly BusMessage[]): Promise<PublishAck[]>;
  /** Starts a durable consumer (created on first use). */
  consume(options: ConsumeOptions): Promise<Consumer>;
  /** Closes every consumer, then the connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Highest position up to which every message of `acks` (in publish order) was acknowledged,
 * duplicates included; `undefined` if the first one failed. This is what a relay checkpoints.
 */
export function lastContiguousPosition(acks: readonly PublishAck[]): bigint | undefined {
  let last: bigint | undefined;
  for (const ack of acks) {
    if (!ack.ok) break;
    last = ack.position;
  }
  return last;
}

/** Default backoff: 100 ms, 200 ms, 400 ms, ... capped at 30 s. */
export function defaultRedeliveryDelayMs(deliveryCount: number): number {
  return Math.min(100 * 2 ** Math.max(0, deliveryCount - 1), 30_000);
}

const DURABLE_NAME = /^[A-Za-z0-9_-]{1,200}$/;

/** @throws {BusError} `INVALID` for a durable name NATS would refuse. */
export function assertDurableName(name: string): void {
  if (!DURABLE_NAME.test(name)) {
    throw new BusError('INVALID', `durable name must match ${DURABLE_NAME.source}: ${JSON.stringify(name)}`);
  }
}

/** Exactly one of `handler` and `batchHandler`, and a sane `maxBatch`. */
export function assertHandlers(options: ConsumeOptions): void {
  if (!options.handler === !options.batchHandler) {
    throw new BusError('INVALID', `consumer ${options.durableName}: give exactly one of handler and batchHandler`);
  }
  if (options.maxBatch !== undefined && (!Number.isInteger(options.maxBatch) || options.maxBatch < 1)) {
    throw new BusError('INVALID', `maxBatch must be a positive integer, got ${options.maxBatch}`);
  }
}

export const DEFAULT_MAX_BATCH = 500;

/** Shared by adapters: validates a whole batch before anything is sent. */
export function assertPublishable(messages: readonly BusMessage[]): void {
  for (const message of messages) {
    const id = MessageIdSchema.safeParse(message.id);
    if (!id.success) throw new BusError('INVALID', `bad message id ${JSON.stringify(message.id)}: ${id.error.message}`);
    assertPublishSubject(message.subject);
    if (typeof message.position !== 'bigint' || message.position < 0n) {
      throw new BusError('INVALID', `message ${message.id}: position must be a non-negative bigint`);
    }
    if (
      message.previousPosition !== undefined &&
      (typeof message.previousPosition !== 'bigint' ||
        message.previousPosition < 0n ||
        message.previousPosition >= message.position)
    ) {
      throw new BusError(
        'INVALID',
        `message ${message.id}: previousPosition must be a non-negative bigint below its position`,
      );
    }
  }
}

export function failedAck(message: BusMessage, error: BusError): PublishAck {
  return { ok: false, id: message.id, position: message.position, duplicate: false, error };
}

export function notAttempted(message: BusMessage, cause: BusError): PublishAck {
  return failedAck(
    message,
    new BusError('NOT_ATTEMPTED', `not sent: an earlier message of the batch failed (${cause.message})`, { cause }),
  );
}

/** Default `onError` sink; libraries take no logger dependency here. */
export function warnBusError(error: BusError): void {
  console.warn(`[@quorum/bus] ${error.code}: ${error.message}`);
}
