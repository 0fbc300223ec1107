/**
 * `/v1` as an integrator's HTTP client calls it: plain requests with an API key or a Bearer
 * token, and a Server-Sent Events reader over `node:http` that can stop reading (a slow
 * consumer) and reports every field it got (ids, event names, comments, `retry:`).
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { expect } from 'vitest';

export interface V1Credentials {
  apiKey?: string;
  token?: string;
}

export interface V1Answer {
  status: number;
  headers: Headers;
  // Answers of many shapes; each test reads the fields it checks.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export function v1Client(baseUrl: string) {
  return async function v1(
    method: string,
    path: string,
    options: V1Credentials & { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<V1Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.apiKey) headers['x-api-key'] = options.apiKey;
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${baseUrl}/v1${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
}

export type V1Client = ReturnType<typeof v1Client>;

/** Invites a new member over `/v1` with `apiKey`; answers the invitation's log position. */
export async function inviteOverV1(v1: V1Client, org: string, apiKey: string, label: string): Promise<string> {
  const res = await v1('POST', `/orgs/${org}/invitations`, {
    apiKey,
    body: { email: `${label}-${randomUUID().slice(0, 8)}@example.com`, role: 'member' },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.position as string;
}

/** Every public event of `org` over `/v1/events`, in one page (a test's organization has fewer than 500). */
export async function publicEventsOverV1(
  v1: V1Client,
  org: string,
  apiKey: string,
): Promise<Array<{ id: string; sequence: string; type: string }>> {
  const res = await v1('GET', `/orgs/${org}/events?limit=500`, { apiKey });
  expect(res.body.next).toBeNull();
  return res.body.data as Array<{ id: string; sequence: string; type: string }>;
}

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/** An open `text/event-stream`, parsed as it arrives. */
export interface SseStream {
  status: number;
  headers: IncomingMessage['headers'];
  messages: SseMessage[];
  comments: string[];
  retry: number | undefined;
  /** Bytes received so far. */
  bytes: number;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  isEnded(): boolean;
  waitFor(predicate: (messages: SseMessage[]) => boolean, timeoutMs?: number): Promise<SseMessage[]>;
  /** Stops reading from the socket (the server's writes back up), and starts again. */
  pause(): void;
  resume(): void;
  close(): void;
}

/** Opens `url` with `headers`; resolves once the response's head is in. */
export function openSse(url: string, headers: Record<string, string>): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let waiters: Array<() => void> = [];
      const wake = () => {
        for (const w of waiters) w();
        waiters = [];
      };
      let buffer = '';
      let ended = false;
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages: [],
        comments: [],
        retry: undefined,
        bytes: 0,
        ended: new Promise<void>((done) => {
          res.once('end', done);
          res.once('close', done);
          res.once('error', () => done());
        }).then(() => {
          ended = true;
          wake();
        }),
        isEnded: () => ended,
        async waitFor(predicate, timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          while (!predicate(stream.messages)) {
            if (Date.now() > deadline || ended)
              throw new Error(
                `${ended ? 'the stream ended' : 'timed out'}; got ${JSON.stringify(stream.messages.map((m) => m.event))}`,
              );
            await new Promise<void>((r) => {
              waiters.push(r);
              setTimeout(r, 200);
            });
          }
          return stream.messages;
        },
        // The response, not its socket: a flowing response would resume the socket on every read.
        pause: () => res.pause(),
        resume: () => res.resume(),
        close: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        stream.bytes += Buffer.byteLength(chunk);
        buffer += chunk;
        const end = buffer.lastIndexOf('\n\n');
        if (end < 0) return;
        const parsed = parseSse(buffer.slice(0, end + 2));
        buffer = buffer.slice(end + 2);
        stream.messages.push(...parsed.messages);
        stream.comments.push(...parsed.comments);
        if (parsed.retry !== undefined) stream.retry = parsed.retry;
        wake();
      });
      resolve(stream);
    });
    req.once('error', reject);
    req.end();
  });
}

/** The messages, comments and `retry:` of event-stream text (complete blocks only). */
export function parseSse(text: string): { messages: SseMessage[]; comments: string[]; retry: number | undefined } {
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  let retry: number | undefined;
  for (const block of text.split('\n\n')) {
    if (block === '') continue;
    const message: SseMessage = { event: 'message', data: '' };
    let hasData = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') message.event = value;
      else if (field === 'id') message.id = value;
      else if (field === 'retry') retry = Number(value);
      else if (field === 'data') {
        message.data += hasData ? `\n${value}` : value;
        hasData = true;
      }
    }
    if (hasData) messages.push(message);
  }
  return { messages, comments, retry };
}

/** The envelopes of a stream's event messages (not its final `error`). */
export function envelopesOf(messages: readonly SseMessage[]): Array<{ sequence: string; type: string; id: string }> {
  return messages.filter((m) => m.event !== 'error').map((m) => JSON.parse(m.data) as never);
}
