/**
 * The browser end of the SFU's signaling WebSocket (`@quorum/signaling`): requests with ids and
 * typed answers, notifications and the close, every frame parsed with `parseServerFrame` on
 * arrival. A frame the server should never send closes the socket (as the server does with
 * ours): the meeting client then treats it like a dropped connection and rejoins.
 */
import {
  parseServerFrame,
  type RequestData,
  type RequestMethod,
  type ResponseData,
  type ServerNotification,
  type SignalingErrorCode,
} from '@quorum/signaling';

/** The server refused a request; `message` is written for people. */
export class SignalingRequestError extends Error {
  constructor(
    readonly method: RequestMethod,
    readonly code: SignalingErrorCode | 'CLOSED' | 'TIMEOUT',
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'SignalingRequestError';
  }
}

/** What the socket needs of a WebSocket (the DOM one, or a fake in tests). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
}

export interface SignalingSocketOptions {
  /** Default: the browser's WebSocket. */
  createWebSocket?: (url: string) => WebSocketLike;
  /** A request with no answer after this long fails with `TIMEOUT`. Default 15 s. */
  requestTimeoutMs?: number;
  /** Opening the socket fails after this long. Default 10 s. */
  connectTimeoutMs?: number;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

const OPEN = 1;
/** Our own close code for a frame that did not parse (the server's protocol code). */
const PROTOCOL_ERROR = 4400;

interface Pending {
  method: RequestMethod;
  resolve: (data: unknown) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class SignalingSocket {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private notificationListener: ((n: ServerNotification) => void) | undefined;
  private closeListener: ((info: CloseInfo) => void) | undefined;
  /** Set once the socket has closed (by either side). */
  closed: CloseInfo | undefined;

  private constructor(
    private readonly ws: WebSocketLike,
    private readonly requestTimeoutMs: number,
  ) {
    ws.onmessage = (event) => this.onFrame(String(event.data));
    ws.onclose = (event) => this.onClosed({ code: event.code, reason: event.reason });
    ws.onerror = null;
  }

  /** Opens a socket to `url`; rejects when it cannot be opened. */
  static connect(url: string, options: SignalingSocketOptions = {}): Promise<SignalingSocket> {
    const ws = (options.createWebSocket ?? ((u: string) => new WebSocket(u) as WebSocketLike))(url);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.onopen = ws.onclose = ws.onerror = null;
        ws.close();
        reject(new Error(`The meeting server at ${url} did not answer.`));
      }, options.connectTimeoutMs ?? 10_000);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(new SignalingSocket(ws, options.requestTimeoutMs ?? 15_000));
      };
      // A failed WebSocket reports an error and then a close; the close has the code.
      ws.onerror = () => undefined;
      ws.onclose = (event) => {
        clearTimeout(timer);
        reject(new Error(`Could not connect to the meeting server (${event.code}).`));
      };
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === OPEN;
  }

  /** Sends a request; resolves with the answer's data, rejects with {@link SignalingRequestError}. */
  request<M extends RequestMethod>(method: M, data: RequestData<M>): Promise<ResponseData[M]> {
    if (!this.isOpen)
      return Promise.reject(
        new SignalingRequestError(method, 'CLOSED', 'The connection to the meeting server is closed.'),
      );
    const id = this.nextId++;
    return new Promise<ResponseData[M]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SignalingRequestError(method, 'TIMEOUT', `The meeting server did not answer ${method} in time.`));
      }, this.requestTimeoutMs);
      this.pending.set(id, { method, resolve: resolve as (data: unknown) => void, reject, timer });
      this.ws.send(JSON.stringify({ type: 'request', id, method, data }));
    });
  }

  /** The one listener for notifications (the meeting client). */
  onNotification(listener: (n: ServerNotification) => void): void {
    this.notificationListener = listener;
  }

  /** The one listener for the close, whoever closed. */
  onClose(listener: (info: CloseInfo) => void): void {
    this.closeListener = listener;
  }

  /** Stops listening: nothing more is delivered from this socket. */
  detach(): void {
    this.notificationListener = undefined;
    this.closeListener = undefined;
  }

  close(code = 1000, reason = 'closed by the client'): void {
    if (this.closed) return;
    this.ws.close(code, reason);
    // The browser reports the close later; callers that close do not wait for it.
    this.onClosed({ code, reason });
  }

  private onFrame(frame: string): void {
    let message: ReturnType<typeof parseServerFrame>;
    try {
      message = parseServerFrame(frame);
    } catch (err) {
      console.warn('signaling: unreadable frame from the server; closing', err);
      this.close(PROTOCOL_ERROR, 'unreadable frame');
      return;
    }
    if (message.type === 'notification') {
      this.notificationListener?.(message);
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.ok) pending.resolve(message.data);
    else
      pending.reject(
        new SignalingRequestError(pending.method, message.error.code, message.error.message, message.error.reason),
      );
  }

  private onClosed(info: CloseInfo): void {
    if (this.closed) return;
    this.closed = info;
    this.ws.onmessage = this.ws.onclose = this.ws.onerror = null;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new SignalingRequestError(p.method, 'CLOSED', 'The connection to the meeting server closed.'));
    }
    this.pending.clear();
    const listener = this.closeListener;
    this.detach();
    listener?.(info);
  }
}
