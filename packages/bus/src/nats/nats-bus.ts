/**
 * JetStream adapter of the `EventBus` port (nats.js 2.29, server 2.9 or newer).
 *
 * - Publish: sequential `js.publish` with `msgID` = event id; the server's duplicate window
 *   turns a relay's retry into `PubAck.duplicate`. Sequential so a failure never leaves a later
 *   position stored before an earlier one (see `PublishAck`).
 * - Consume: durable pull consumers making their own bounded pull requests on one inbox that
 *   lives as long as the consumer (`nats-consumer.ts` says why neither nats.js's `fetch()` nor
 *   its `consume()`): no message is ever delivered to an inbox nobody reads, so none waits out
 *   `ack_wait` (30 s). Closing lets the current batch finish, naks what was not handled
 *   (immediately redeliverable) and waits for the open pulls to end, up to `fetchExpiresMs` and
 *   250 ms.
 * - Server 2.9 has no `filter_subjects`: more than one filter needs 2.10 (`UNSUPPORTED`).
 */
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  headers as natsHeaders,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import { BusError } from '../bus-error';
import { encodePayload } from '../codec';
import {
  assertDurableName,
  assertHandlers,
  assertPublishable,
  failedAck,
  notAttempted,
  type BusMessage,
  type ConsumeOptions,
  type Consumer,
  type EventBus,
  type PublishAck,
} from '../event-bus';
import { assertFilterSubject, DUPLICATE_WINDOW_MS, EVENTS_STREAM, EVENTS_SUBJECTS } from '../subject';
import { ACK_WAIT_MS, NatsConsumer } from './nats-consumer';
import { apiErrorCode, describe, JS_CONSUMER_NOT_FOUND, JS_STREAM_NOT_FOUND, translate } from './nats-errors';
import { POSITION_HEADER, PREVIOUS_POSITION_HEADER } from './nats-message';

const DEFAULT_MAX_ACK_PENDING = 1_000;
const MAX_FETCH_BATCH = 256;

export interface NatsBusOptions {
  /** e.g. `nats://127.0.0.1:4222`. */
  readonly servers: string | readonly string[];
  /** Default `EVENTS`. */
  readonly streamName?: string;
  /** Subjects of the stream; default `evt.>`. */
  readonly streamSubjects?: readonly string[];
  /**
   * Isolates one Quorum deployment on a shared server: subjects get the prefix `<namespace>.`
   * on the server (stripped again on delivery, so callers never see it) and the stream is
   * named `EVENTS_<namespace>`. Letters, digits, `-` and `_`.
   */
  readonly namespace?: string;
  /** Connection name shown in NATS monitoring. */
  readonly name?: string;
  /** Connect and JetStream API timeout. Default 5,000 ms. */
  readonly timeoutMs?: number;
  /** How long one pull waits on the server for messages; bounds `Consumer.close()` latency. Default 1,000 ms. */
  readonly fetchExpiresMs?: number;
  /**
   * Durables unused this long are deleted by the server. Default: never. Test suites set it so
   * their uniquely named durables do not pile up.
   */
  readonly consumerInactiveThresholdMs?: number;
}

/** Messages in flight at once in `publish`. */
const PUBLISH_WINDOW = 128;

/** `EventBus` over NATS JetStream. */
export class NatsBus implements EventBus {
  private readonly consumers = new Set<NatsConsumer>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: Required<Omit<NatsBusOptions, 'name' | 'consumerInactiveThresholdMs' | 'namespace'>> & {
      subjectPrefix: string;
    } & Pick<NatsBusOptions, 'consumerInactiveThresholdMs'>,
  ) {}

  /**
   * Connects and checks that JetStream is enabled. Does not create the stream: call
   * {@link NatsBus.ensureStream}.
   * @throws {BusError} `UNAVAILABLE` when the server cannot be reached or has no JetStream.
   */
  static async create(options: NatsBusOptions): Promise<NatsBus> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    const servers = typeof options.servers === 'string' ? options.servers : [...options.servers];
    let nc: NatsConnection;
    try {
      nc = await connect({ servers, name: options.name, timeout: timeoutMs, maxReconnectAttempts: -1 });
    } catch (error) {
      throw new BusError('UNAVAILABLE', `cannot connect to NATS at ${String(servers)}: ${describe(error)}`, {
        cause: error,
      });
    }
    try {
      const jsm = await nc.jetstreamManager({ timeout: timeoutMs });
      const js = nc.jetstream({ timeout: timeoutMs });
      const ns = options.namespace;
      if (ns !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(ns)) {
        throw new BusError('INVALID', `namespace must be 1 to 64 letters, digits, - or _: ${JSON.stringify(ns)}`);
      }
      const prefix = ns ? `${ns}.` : '';
      return new NatsBus(nc, js, jsm, {
        servers,
        subjectPrefix: prefix,
        streamName: options.streamName ?? (ns ? `${EVENTS_STREAM}_${ns}` : EVENTS_STREAM),
        streamSubjects: (options.streamSubjects ?? [EVENTS_SUBJECTS]).map((s) => prefix + s),
        timeoutMs,
        fetchExpiresMs: Math.max(1_000, options.fetchExpiresMs ?? 1_000),
        consumerInactiveThresholdMs: options.consumerInactiveThresholdMs,
      });
    } catch (error) {
      await nc.close();
      throw new BusError('UNAVAILABLE', `JetStream is not available at ${String(servers)}: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  async ensureStream(): Promise<void> {
    this.assertOpen();
    const { streamName, streamSubjects } = this.options;
    const duplicateWindow = nanos(DUPLICATE_WINDOW_MS);
    try {
      const info = await this.jsm.streams.info(streamName).catch((error: unknown) => {
        if (apiErrorCode(error) === JS_STREAM_NOT_FOUND) return undefined;
        throw error;
      });
      if (!info) {
        await this.jsm.streams.add({
          name: streamName,
          subjects: [...streamSubjects],
          retention: RetentionPolicy.Limits,
          storage: StorageType.File,
          duplicate_window: duplicateWindow,
        });
        return;
      }
      const missing = streamSubjects.filter((subject) => !info.config.subjects.includes(subject));
      if (missing.length > 0 || info.config.duplicate_window !== duplicateWindow) {
        await this.jsm.streams.update(streamName, {
          ...info.config,
          subjects: [...info.config.subjects, ...missing],
          duplicate_window: duplicateWindow,
        });
      }
    } catch (error) {
      throw translate(error, `ensure stream ${streamName}`);
    }
  }

  async publish(messages: readonly BusMessage[]): Promise<PublishAck[]> {
    this.assertOpen();
    assertPublishable(messages);
    const encoded = messages.map((message) => encodePayload(message.payload, message.id));
    const acks: PublishAck[] = [];
    let failure: BusError | undefined;
    // Up to PUBLISH_WINDOW messages are in flight at once: one connection keeps their order,
    // and the relay does not wait a round trip (and an event-loop turn) per event.
    for (let from = 0; from < messages.length; from += PUBLISH_WINDOW) {
      const window = messages.slice(from, from + PUBLISH_WINDOW);
      if (failure) {
        for (const message of window) acks.push(notAttempted(message, failure));
        continue;
      }
      const settled = await Promise.all(
        window.map(async (message, offset): Promise<PublishAck> => {
          const headers = natsHeaders();
          headers.set(POSITION_HEADER, message.position.toString());
          if (message.previousPosition !== undefined)
            headers.set(PREVIOUS_POSITION_HEADER, message.previousPosition.toString());
          try {
            const ack = await this.js.publish(this.options.subjectPrefix + message.subject, encoded[from + offset], {
              msgID: message.id,
              headers,
              timeout: this.options.timeoutMs,
            });
            if (ack.stream !== this.options.streamName) {
              return failedAck(
                message,
                new BusError(
                  'REJECTED',
                  `subject ${message.subject} is captured by stream ${ack.stream}, not ${this.options.streamName}`,
                ),
              );
            }
            return { ok: true, id: message.id, position: message.position, duplicate: ack.duplicate };
          } catch (error) {
            return failedAck(message, translate(error, `publish ${message.id} on ${message.subject}`));
          }
        }),
      );
      for (const ack of settled) {
        acks.push(ack);
        if (!ack.ok) failure ??= ack.error;
      }
    }
    return acks;
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    this.assertOpen();
    assertDurableName(options.durableName);
    assertHandlers(options);
    const filters = options.filterSubjects?.length ? [...options.filterSubjects] : [];
    filters.forEach(assertFilterSubject);
    const maxAckPending = options.maxAckPending ?? DEFAULT_MAX_ACK_PENDING;
    if (!Number.isInteger(maxAckPending) || maxAckPending < 1) {
      throw new BusError('INVALID', `maxAckPending must be a positive integer, got ${maxAckPending}`);
    }
    await this.ensureConsumer(
      options.durableName,
      filters.map((f) => this.options.subjectPrefix + f),
      maxAckPending,
    );
    const natsConsumer = new NatsConsumer(
      {
        nc: this.nc,
        stream: this.options.streamName,
        subjectPrefix: this.options.subjectPrefix,
        batchSize: Math.min(maxAckPending, MAX_FETCH_BATCH),
        expiresMs: this.options.fetchExpiresMs,
        timeoutMs: this.options.timeoutMs,
      },
      options,
      () => this.consumers.delete(natsConsumer),
    );
    this.consumers.add(natsConsumer);
    natsConsumer.start();
    return natsConsumer;
  }

  /**
   * Deletes this bus's stream with its messages and consumers: for a namespace that is done
   * with (a finished test's, a retired deployment's). Irreversible; a missing stream is fine.
   */
  async deleteStream(): Promise<void> {
    this.assertOpen();
    const { streamName } = this.options;
    try {
      await this.jsm.streams.delete(streamName);
    } catch (error) {
      if (apiErrorCode(error) === JS_STREAM_NOT_FOUND) return;
      throw translate(error, `delete stream ${streamName}`);
    }
  }

  /** Closes every consumer (each finishes its handler), flushes acks, then closes the connection. */
  async close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.consumers].map((consumer) => consumer.close()));
      if (!this.nc.isClosed()) await this.nc.drain();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing || this.nc.isClosed()) throw new BusError('CLOSED', 'NATS bus is closed');
  }

  /** Creates the durable, or checks an existing one matches; only `max_ack_pending` may change. */
  private async ensureConsumer(durable: string, filters: string[], maxAckPending: number): Promise<void> {
    const stream = this.options.streamName;
    const multiFilter = filters.length > 1;
    if (multiFilter && !this.serverAtLeast(2, 10)) {
      throw new BusError(
        'UNSUPPORTED',
        `consumer ${durable}: ${filters.length} filter subjects need nats-server 2.10+ (filter_subjects); server is ${this.nc.info?.version ?? 'unknown'}`,
      );
    }
    try {
      const existing = await this.jsm.consumers.info(stream, durable).catch((error: unknown) => {
        if (apiErrorCode(error) === JS_CONSUMER_NOT_FOUND) return undefined;
        throw error;
      });
      if (existing) {
        const current = existing.config.filter_subjects?.length
          ? existing.config.filter_subjects
          : existing.config.filter_subject
            ? [existing.config.filter_subject]
            : [];
        if (!sameFilters(current, filters)) {
          throw new BusError(
            'CONFLICT',
            `durable ${durable} filters [${current.join(', ')}], not [${filters.join(', ')}]; use a new durable name`,
          );
        }
        if (existing.config.max_ack_pending !== maxAckPending) {
          await this.jsm.consumers.update(stream, durable, { max_ack_pending: maxAckPending });
        }
        return;
      }
      const config: Partial<ConsumerConfig> = {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(ACK_WAIT_MS),
        // Unlimited: the projector counts attempts and dead-letters poison events itself.
        max_deliver: -1,
        max_ack_pending: maxAckPending,
      };
      if (multiFilter) config.filter_subjects = filters;
      else if (filters[0] !== undefined) config.filter_subject = filters[0];
      if (this.options.consumerInactiveThresholdMs !== undefined) {
        config.inactive_threshold = nanos(this.options.consumerInactiveThresholdMs);
      }
      await this.jsm.consumers.add(stream, config);
    } catch (error) {
      throw translate(error, `ensure consumer ${durable}`);
    }
  }

  private serverAtLeast(major: number, minor: number): boolean {
    const [maj = 0, min = 0] = (this.nc.info?.version ?? '0.0.0').split('.').map((part) => Number.parseInt(part, 10));
    return maj > major || (maj === major && min >= minor);
  }
}

function sameFilters(a: readonly string[], b: readonly string[]): boolean {
  const sortedB = [...b].sort();
  return a.length === b.length && [...a].sort().every((value, index) => value === sortedB[index]);
}
