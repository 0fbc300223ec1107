/**
 * A durable pull consumer driven by bounded `fetch` batches (see `nats-bus.ts` for why not
 * `consume()`): closing lets the current batch finish and naks what was not handled.
 */
import type { JetStreamClient, JsMsg } from 'nats';
import { BusError } from '../bus-error';
import {
  DEFAULT_MAX_BATCH,
  defaultRedeliveryDelayMs,
  warnBusError,
  type ConsumeOptions,
  type Consumer,
  type DeliveredMessage,
} from '../event-bus';
import { describe, translate } from './nats-errors';
import { decode } from './nats-message';

export const ACK_WAIT_MS = 30_000;

type PullConsumer = Awaited<ReturnType<JetStreamClient['consumers']['get']>>;

export class NatsConsumer implements Consumer {
  private closing = false;
  private loop: Promise<void> | undefined;
  private cancelPause: (() => void) | undefined;
  private readonly redeliveryDelayMs: (deliveryCount: number) => number;
  private readonly onError: (error: BusError) => void;

  constructor(
    private readonly consumer: PullConsumer,
    private readonly options: ConsumeOptions,
    private readonly subjectPrefix: string,
    private readonly batchSize: number,
    private readonly fetchExpiresMs: number,
    private readonly onClosed: () => void,
  ) {
    this.redeliveryDelayMs = options.redeliveryDelayMs ?? defaultRedeliveryDelayMs;
    this.onError = options.onError ?? warnBusError;
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  }

  private readonly maxBatch: number;

  start(): void {
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.cancelPause?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    try {
      while (!this.closing) {
        try {
          const batch = await this.consumer.fetch({ max_messages: this.batchSize, expires: this.fetchExpiresMs });
          let waiting: JsMsg[] = [];
          for await (const msg of batch) {
            if (this.closing) {
              // Fetched but not handled: hand it back now rather than after ack_wait.
              for (const m of waiting) m.nak();
              waiting = [];
              msg.nak();
              continue;
            }
            if (!this.options.batchHandler) {
              await this.handle(msg);
              continue;
            }
            waiting.push(msg);
            // Hand over what has arrived as soon as nothing more is buffered: no added latency.
            // nats.js counts the message in hand as pending until the loop moves on, so "nothing
            // more" is 1; waiting for 0 held every batch until the fetch expired (1 s).
            if (batch.getPending() <= 1 || waiting.length >= this.maxBatch) {
              const handing = waiting;
              waiting = [];
              await this.handleBatch(handing);
            }
          }
          if (waiting.length > 0) await this.handleBatch(waiting);
          failures = 0;
        } catch (error) {
          failures += 1;
          this.onError(translate(error, `fetch for consumer ${this.options.durableName}`));
          await this.pause(Math.min(250 * 2 ** failures, 5_000));
        }
      }
    } finally {
      this.onClosed();
    }
  }

  private async handleBatch(msgs: JsMsg[]): Promise<void> {
    const messages: DeliveredMessage[] = [];
    const kept: JsMsg[] = [];
    for (const msg of msgs) {
      try {
        messages.push(decode(msg, this.subjectPrefix));
        kept.push(msg);
      } catch (error) {
        msg.term();
        this.onError(error instanceof BusError ? error : new BusError('DECODE', describe(error), { cause: error }));
      }
    }
    if (messages.length === 0) return;
    const keepAlive = setInterval(() => kept.forEach((m) => m.working()), ACK_WAIT_MS / 3);
    try {
      await this.options.batchHandler!(messages);
      for (const m of kept) m.ack();
    } catch {
      const delay = this.redeliveryDelayMs(messages[0]!.deliveryCount);
      for (const m of kept) m.nak(delay);
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    let message: DeliveredMessage;
    try {
      message = decode(msg, this.subjectPrefix);
    } catch (error) {
      // Not something this bus wrote: redelivering cannot help, so stop it for good.
      msg.term();
      this.onError(error instanceof BusError ? error : new BusError('DECODE', describe(error), { cause: error }));
      return;
    }
    // A slow handler must not lose its message to ack_wait: tell the server we are on it.
    const keepAlive = setInterval(() => msg.working(), ACK_WAIT_MS / 3);
    try {
      await this.options.handler!(message);
      msg.ack();
    } catch {
      // The handler owns its error (logs, dead-letters); the bus's part is the redelivery.
      msg.nak(this.redeliveryDelayMs(message.deliveryCount));
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.cancelPause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.cancelPause = undefined;
  }
}
