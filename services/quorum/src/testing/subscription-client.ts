/**
 * Opens a tRPC subscription over HTTP (SSE) as a plain client would, and reports how it
 * started: a tRPC subscription answers 200 and sends a refusal as a `serialized-error` event.
 */
import type { CallOptions, TrpcFailure } from './http-client';

export type SubscriptionStart = { ok: true; firstData?: unknown } | { ok: false; failure: TrpcFailure };

/** Reads the stream until an error, the first data event, or `quietMs` without either (ok). */
export async function openSubscription(baseUrl: string, path: string, input: unknown, o: CallOptions = {}, quietMs = 500): Promise<SubscriptionStart> {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.apiKey) headers['x-api-key'] = o.apiKey;
  if (o.cookie) headers.cookie = o.cookie;
  const abort = new AbortController();
  const res = await fetch(`${baseUrl}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers, signal: abort.signal });
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
    const body = (await res.json()) as { error: { message: string; data: { code: string; fieldErrors?: TrpcFailure['fieldErrors']; reason?: string } } };
    return { ok: false, failure: { status: res.status, code: body.error.data.code, message: body.error.message, ...pick(body.error.data) } };
  }
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const timer = setTimeout(() => abort.abort(), quietMs);
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read().catch((err: unknown) => {
        if (abort.signal.aborted) return { value: undefined, done: true as const };
        throw err;
      });
      if (done) return { ok: true };
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === 'serialized-error' && data) {
          const e = JSON.parse(data) as { message: string; data: { code: string; httpStatus: number; fieldErrors?: TrpcFailure['fieldErrors']; reason?: string } };
          return { ok: false, failure: { status: e.data.httpStatus, code: e.data.code, message: e.message, ...pick(e.data) } };
        }
        if (event === undefined && data) return { ok: true, firstData: JSON.parse(data) as unknown };
      }
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

function pick(d: { fieldErrors?: TrpcFailure['fieldErrors']; reason?: string }) {
  return { ...(d.fieldErrors ? { fieldErrors: d.fieldErrors } : {}), ...(d.reason ? { reason: d.reason } : {}) };
}
