/**
 * A signaling client for tests and benchmarks (Node, `ws`): requests with ids and typed
 * answers, and a log of notifications that can be awaited.
 */
import {
  parseServerFrame,
  type NotificationData,
  type NotificationMethod,
  type RequestData,
  type RequestMethod,
  type ResponseData,
  type ServerNotification,
  type SignalingError,
} from '@quorum/signaling';
import { WebSocket } from 'ws';

export class SignalingRequestError extends Error {
  constructor(readonly error: SignalingError) {
    super(`${error.code}${error.reason ? ` (${error.reason})` : ''}: ${error.message}`);
  }
}

export class SignalingClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly notifications: ServerNotification[] = [];
  private readonly waiters = new Set<() => void>();
  /** The close code and reason, once closed. */
  closed: { code: number; reason: string } | undefined;
  private readonly closedPromise: Promise<{ code: number; reason: string }>;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      const frame = parseServerFrame(raw.toString());
      if (frame.type === 'response') {
        const p = this.pending.get(frame.id);
        this.pending.delete(frame.id);
        if (frame.ok) p?.resolve(frame.data);
        else p?.reject(new SignalingRequestError(frame.error));
      } else {
        this.notifications.push(frame);
        for (const w of this.waiters) w();
      }
    });
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        for (const p of this.pending.values()) p.reject(new Error(`socket closed (${code})`));
        this.pending.clear();
        for (const w of this.waiters) w();
        resolve(this.closed);
      }),
    );
  }

  static async connect(url: string): Promise<SignalingClient> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new SignalingClient(socket);
  }

  request<M extends RequestMethod>(method: M, data: RequestData<M>): Promise<ResponseData[M]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.send(JSON.stringify({ type: 'request', id, method, data }));
    });
  }

  /** Sends a raw frame (bad-input tests). */
  sendRaw(frame: string): void {
    this.socket.send(frame);
  }

  /** The first notification of `method` (after `from` earlier ones) matching `predicate`, waiting up to `timeoutMs`. */
  async next<M extends NotificationMethod>(
    method: M,
    predicate: (data: NotificationData<M>) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<NotificationData<M>> {
    const find = () =>
      this.notifications.find((n) => n.method === method && predicate(n.data as NotificationData<M>))?.data as
        NotificationData<M> | undefined;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found) return found;
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) before ${method}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no ${method} notification within ${timeoutMs} ms; got ${this.notifications.map((n) => n.method).join(', ')}`,
        );
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  waitClosed(): Promise<{ code: number; reason: string }> {
    return this.closedPromise;
  }

  close(): void {
    this.socket.close();
  }
}
