/**
 * tRPC subscriptions over HTTP (SSE) as a plain client reads them: a tRPC subscription answers
 * 200 and sends a refusal as a `serialized-error` event. `openSubscription` reports how one
 * started; `followSubscription` keeps reading and records what arrives and how it ended.
 */
import type { CallOptions, TrpcFailure } from './http-client';

export type SubscriptionStart = { ok: true; firstData?: unknown } | { ok: false; failure: TrpcFailure };

type ErrorData = { code: string; httpStatus: number; fieldErrors?: TrpcFailure['fieldErrors']; reason?: string };

/** One SSE message: `serialized-error` with its failure, or data (no event name). */
type SseMessage = { kind: 'error'; failure: TrpcFailure } | { kind: 'data'; data: unknown };

function headersOf(o: CallOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.apiKey) headers['x-api-key'] = o.apiKey;
  if (o.cookie) headers.cookie = o.cookie;
  return headers;
}

/** Reads SSE messages until the stream ends or `onMessage` answers true; false if the stream ended first. */
async function readMessages(
  res: Response,
  abort: AbortController,
  onMessage: (m: SseMessage) => boolean,
): Promise<boolean> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read().catch((err: unknown) => {
      if (abort.signal.aborted) return { value: undefined, done: true as const };
      throw err;
    });
    if (done) return false;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === 'serialized-error' && data) {
        const e = JSON.parse(data) as { message: string; data: ErrorData };
        if (
          onMessage({
            kind: 'error',
            failure: { status: e.data.httpStatus, code: e.data.code, message: e.message, ...pick(e.data) },
          })
        )
          return true;
      } else if (event === undefined && data) {
        if (onMessage({ kind: 'data', data: JSON.parse(data) as unknown })) return true;
      }
    }
  }
}

async function open(baseUrl: string, path: string, input: unknown, o: CallOptions, abort: AbortController) {
  const res = await fetch(`${baseUrl}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, {
    headers: headersOf(o),
    signal: abort.signal,
  });
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) return { res };
  const body = (await res.json()) as {
    error: { message: string; data: { code: string; fieldErrors?: TrpcFailure['fieldErrors']; reason?: string } };
  };
  return {
    refused: {
      status: res.status,
      code: body.error.data.code,
      message: body.error.message,
      ...pick(body.error.data),
    } as TrpcFailure,
  };
}

/** Reads the stream until an error, the first data event, or `quietMs` without either (ok). */
export async function openSubscription(
  baseUrl: string,
  path: string,
  input: unknown,
  o: CallOptions = {},
  quietMs = 500,
): Promise<SubscriptionStart> {
  const abort = new AbortController();
  const opened = await open(baseUrl, path, input, o, abort);
  if (!opened.res) return { ok: false, failure: opened.refused! };
  const timer = setTimeout(() => abort.abort(), quietMs);
  let start: SubscriptionStart = { ok: true };
  try {
    await readMessages(opened.res, abort, (m) => {
      start = m.kind === 'error' ? { ok: false, failure: m.failure } : { ok: true, firstData: m.data };
      return true;
    });
    return start;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** A subscription being followed: what arrived so far, and how it ended (once it has). */
export interface FollowedSubscription {
  data: unknown[];
  /** `code` of the `serialized-error` it ended with; undefined when the stream just ended. */
  ended: { code: string | undefined } | undefined;
  stop(): void;
}

/** Opens a subscription that must start, and keeps reading it in the background. */
export async function followSubscription(
  baseUrl: string,
  path: string,
  input: unknown,
  o: CallOptions = {},
): Promise<FollowedSubscription> {
  const abort = new AbortController();
  const opened = await open(baseUrl, path, input, o, abort);
  if (!opened.res) throw new Error(`${path} refused: ${opened.refused!.code} ${opened.refused!.message}`);
  const feed: FollowedSubscription = { data: [], ended: undefined, stop: () => abort.abort() };
  readMessages(opened.res, abort, (m) => {
    if (m.kind === 'data') feed.data.push(m.data);
    else feed.ended = { code: m.failure.code };
    return false;
  }).then(
    () => (feed.ended ??= { code: undefined }),
    (err: Error) => {
      if (!abort.signal.aborted) feed.ended = { code: `stream failed: ${err.message}` };
    },
  );
  return feed;
}

function pick(d: { fieldErrors?: TrpcFailure['fieldErrors']; reason?: string }) {
  return { ...(d.fieldErrors ? { fieldErrors: d.fieldErrors } : {}), ...(d.reason ? { reason: d.reason } : {}) };
}
