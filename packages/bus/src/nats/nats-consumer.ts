/**
 * A durable pull consumer with its own pull requests on one inbox that stays subscribed for the
 * consumer's whole life.
 *
 * Why not nats.js's `fetch()`: each fetch subscribes a new inbox and a client-side timer closes
 * it at 1.05 × `expires`. When the event loop stalls past that timer (a busy machine, a long
 * GC), the timer runs before the socket is read, the inbox is gone, and the messages the server
 * already delivered to it stay unacknowledged until `ack_wait` (30 s) ends: a consumer stalled
 * half a minute by a one-second pause. Here every message the server sends reaches the
 * subscription, however late it is read. A pull ends when the server says so (its status at
 * `expires`, or the batch filled), or a little after `expires` when no status came; the next is
 * asked for halfway through the last, so one is always waiting on the server.
 *
 * Why not `consume()`: it keeps pulls outstanding and drops messages that arrive after it is
 * closed, with the same 30 s stall for the durable's next reader. Closing here stops asking,
 * lets the batch in hand finish, naks what arrives until the open pulls end (at most
 * `expires` and a grace), then unsubscribes, so nothing is left delivered to nobody.
 */
import { createInbox, nanos, type JsMsg, type Msg, type NatsConnection, type Subscription } from 'nats';
// nats.js builds its JsMsg (ack, nak with delay, term, working, delivery info) with this.
import { toJsMsg } from 'nats/lib/jetstream/jsmsg.js';
import { BusError } from '../bus-error';
import {
  DEFAULT_MAX_BATCH,
  defaultRedeliveryDelayMs,
  warnBusError,
  type ConsumeOptions,
  type Consumer,
  type DeliveredMessage,
} from '../event-bus';
import { describe } from './nats-errors';
import { decode } from './nats-message';

export const ACK_WAIT_MS = 30_000;
const JS_API_PREFIX = '$JS.API';
/** How long after `expires` a pull without its status is taken as over. */
const EXPIRY_GRACE_MS = 250;

/** Where the consumer pulls from, and how. */
export interface PullTarget {
  readonly nc: NatsConnection;
  readonly stream: string;
  readonly subjectPrefix: string;
  /** Messages asked for per pull. */
  readonly batchSize: number;
  /** How long one pull waits on the server; bounds `close()`. */
  readonly expiresMs: number;
  /** Ack round-trip timeout handed to nats.js's messages. */
  readonly timeoutMs: number;
}

interface OpenPull {
  readonly id: number;
  /** When it was asked for (`performance.now()`). */
  readonly at: number;
  /** Messages still due on it (the server fills pulls in the order they came). */
  left: number;
  /** Ends it for us a little after `expires` if no status came. */
  readonly expiry: NodeJS.Timeout;
}

export class NatsConsumer implements Consumer {
  private closing = false;
  private loop: Promise<void> | undefined;
  private cancelPause: (() => void) | undefined;
  private readonly redeliveryDelayMs: (deliveryCount: number) => number;
  private readonly onError: (error: BusError) => void;
  private readonly maxBatch: number;
  private readonly inbox = createInbox();
  private sub: Subscription | undefined;
  private pullSeq = 0;
  /** Pulls the server may still answer, oldest first. */
  private readonly open = new Map<number, OpenPull>();
  private readonly queue: JsMsg[] = [];
  private failure: BusError | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly target: PullTarget,
    private readonly options: ConsumeOptions,
    private readonly onClosed: () => void,
  ) {
    this.redeliveryDelayMs = options.redeliveryDelayMs ?? defaultRedeliveryDelayMs;
    this.onError = options.onError ?? warnBusError;
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  }

  start(): void {
    this.sub = this.target.nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (error)
          this.fail(new BusError('REJECTED', `inbox of consumer ${this.options.durableName}: ${describe(error)}`));
        else this.receive(msg);
      },
    });
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.cancelPause?.();
    this.wakeUp();
    await this.loop;
  }

  private receive(msg: Msg): void {
    if (msg.subject.startsWith(this.inbox)) {
      this.status(msg);
      return;
    }
    const jsMsg = toJsMsg(msg, this.target.timeoutMs);
    const oldest = this.open.values().next().value;
    if (oldest !== undefined) {
      oldest.left -= 1;
      if (oldest.left <= 0) this.endPull(oldest.id);
    }
    if (this.closing) {
      // Not handled: hand it back now rather than after ack_wait.
      jsMsg.nak();
      return;
    }
    this.queue.push(jsMsg);
    this.wakeUp();
  }

  /** A status from the server about one of our pulls (its id is the inbox's last token). */
  private status(msg: Msg): void {
    const id = Number(msg.subject.slice(this.inbox.length + 1));
    const code = msg.headers?.code ?? 0;
    if (code >= 100 && code < 200) return; // idle heartbeat or flow control: not asked for
    if (!this.open.has(id)) return; // a pull already over for us
    this.endPull(id);
    const description = msg.headers?.description ?? '';
    // 404 no messages, 408 expired: the normal end. A 409 (consumer deleted, leadership change,
    // a server limit) or a 503 (no JetStream answering) is told and retried after a pause, so a
    // server that refuses every pull is not asked again in a tight loop.
    if (code === 409 || code === 503) {
      this.fail(
        new BusError(
          code === 503 ? 'UNAVAILABLE' : 'REJECTED',
          `pull for consumer ${this.options.durableName}: ${code} ${description || 'no responders'}`,
        ),
      );
    }
  }

  /**
   * Asks for a batch. The server usually ends a pull with a status at `expires`, but not always
   * (nats-server 2.9 now and then lets a pull that got messages expire in silence, and a
   * reconnect loses one), so a pull is also over for us a little after `expires`, and the next
   * is asked for halfway through the last (see {@link needsPull}): one is always waiting on the
   * server. The inbox stays, so whatever the server still sends for a pull over for us lands.
   */
  private requestPull(): void {
    const id = ++this.pullSeq;
    const expiry = setTimeout(() => this.endPull(id), this.target.expiresMs + EXPIRY_GRACE_MS);
    this.open.set(id, { id, at: performance.now(), left: this.target.batchSize, expiry });
    try {
      this.target.nc.publish(
        `${JS_API_PREFIX}.CONSUMER.MSG.NEXT.${this.target.stream}.${this.options.durableName}`,
        JSON.stringify({ batch: this.target.batchSize, expires: nanos(this.target.expiresMs) }),
        { reply: `${this.inbox}.${id}` },
      );
    } catch (error) {
      this.endPull(id);
      this.fail(new BusError('UNAVAILABLE', `pull for consumer ${this.options.durableName}: ${describe(error)}`));
    }
  }

  /** Milliseconds until the newest open pull is halfway through (0: ask for another now). */
  private needsPull(): number {
    let newest: OpenPull | undefined;
    for (const pull of this.open.values()) newest = pull;
    if (newest === undefined) return 0;
    return Math.max(0, newest.at + this.target.expiresMs / 2 - performance.now());
  }

  private endPull(id: number): void {
    const pull = this.open.get(id);
    if (pull === undefined) return;
    clearTimeout(pull.expiry);
    this.open.delete(id);
    this.wakeUp();
  }

  private fail(error: BusError): void {
    this.failure ??= error;
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    try {
      while (!this.closing) {
        if (this.failure !== undefined) {
          const failure = this.failure;
          this.failure = undefined;
          failures += 1;
          this.onError(failure);
          await this.pause(Math.min(250 * 2 ** failures, 5_000));
          continue;
        }
        if (this.queue.length === 0) {
          let renewInMs = this.needsPull();
          if (renewInMs === 0) {
            this.requestPull();
            renewInMs = this.needsPull();
          }
          await new Promise<void>((resolve) => {
            const renew = setTimeout(resolve, Math.max(1, renewInMs));
            this.wake = () => {
              clearTimeout(renew);
              resolve();
            };
          });
          continue;
        }
        failures = 0;
        if (this.options.batchHandler) {
          await this.handleBatch(this.queue.splice(0, this.maxBatch));
        } else {
          await this.handle(this.queue.shift()!);
        }
      }
      // Closing: what is queued was not handled; what the open pulls still bring is nak'd as it
      // arrives. Wait for their end so no message is delivered to an inbox nobody reads.
      for (const msg of this.queue.splice(0)) msg.nak();
      while (this.open.size > 0 && !this.target.nc.isClosed()) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      for (const pull of this.open.values()) clearTimeout(pull.expiry);
      this.open.clear();
      this.sub?.unsubscribe();
      this.onClosed();
    }
  }

  private async handleBatch(msgs: JsMsg[]): Promise<void> {
    const messages: DeliveredMessage[] = [];
    const kept: JsMsg[] = [];
    for (const msg of msgs) {
      try {
        messages.push(decode(msg, this.target.subjectPrefix));
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
      message = decode(msg, this.target.subjectPrefix);
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
