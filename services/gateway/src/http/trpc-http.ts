/**
 * tRPC over Node's HTTP server, built on tRPC's public `resolveResponse` (the way its own
 * adapters are). The standalone adapter turns every request body into a web `ReadableStream`
 * and pumps every response through a `WritableStream`; on a gateway answering hundreds of
 * small JSON calls a second that shows (`node --import tsx load-tests/bench/trpc-http.bench.ts`:
 * this handler takes 0.75–0.83× the standalone adapter's CPU per call). Here the
 * body is read into a string first (bounded by `maxBodySize`) and a JSON answer is written in
 * one `end()`. Answers that stream (subscriptions over server-sent events, streamed batches)
 * are still piped chunk by chunk, and the request's signal still aborts when the client goes
 * away. Errors are shaped by tRPC itself, so the wire stays exactly tRPC's.
 *
 * A JSON call's body, already a string, reaches tRPC through `text()` of a {@link ReadRequest}
 * rather than as a web stream built by the `Request` constructor and read back by tRPC: that
 * round trip (a `ReadableStream`, its reader, and the bytes copied twice) was a tenth of the
 * gateway's CPU per command under load. Other bodies (multipart, octet streams) keep a real
 * streamed body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError, type AnyTRPCRouter } from '@trpc/server';
import { resolveResponse, type HTTPErrorHandler } from '@trpc/server/http';

export interface TrpcHttpHandlerOptions<TRouter extends AnyTRPCRouter> {
  router: TRouter;
  /** Path prefix before the procedure path, with slashes: `/trpc/`. */
  basePath: string;
  /** Larger bodies are answered 413 PAYLOAD_TOO_LARGE. */
  maxBodySize: number;
  /** Batches with more calls are answered 400 BAD_REQUEST before any call runs. */
  maxBatchSize?: number;
  createContext: (req: IncomingMessage, res: ServerResponse) => Promise<unknown>;
  onError?: (opts: Parameters<HTTPErrorHandler<TRouter, Request>>[0]) => void;
  /** A failure outside any procedure: an unreadable request, or a bug in answering it. */
  onUnexpected?: (err: unknown) => void;
}

const TOO_LARGE = Symbol('too large');

/** The whole body as text, or TOO_LARGE once it passes `max` bytes (the rest is left unread). */
function readBody(req: IncomingMessage, max: number): Promise<string | typeof TOO_LARGE> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      resolve(TOO_LARGE);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        cleanup();
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** A body tRPC reads as failing with PAYLOAD_TOO_LARGE, as its own adapter does. */
function tooLargeBody(): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.error(new TRPCError({ code: 'PAYLOAD_TOO_LARGE' }));
    },
  });
}

/**
 * A `Request` whose JSON body was read already: `text()` answers it, `json()` parses it. The
 * body is not a stream (`body` is null), so this is only built for content tRPC reads through
 * `text()`; `formData()` and `body` belong to the streamed kinds.
 */
class ReadRequest extends Request {
  private readonly bodyText: string;

  constructor(url: URL, init: RequestInit, text: string) {
    super(url, init);
    this.bodyText = text;
  }

  // Properties, not methods: the DOM typings declare `text` and `json` as properties of Request.
  override text = async (): Promise<string> => this.bodyText;

  override json = async (): Promise<unknown> => JSON.parse(this.bodyText) as unknown;
}

/** Content tRPC reads as text (`application/json`, its only text kind), by the test tRPC itself makes. */
function isJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return type !== undefined && type.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

function toHeaders(incoming: IncomingMessage['headers']): Headers {
  const headers = new Headers();
  for (const key in incoming) {
    if (key.startsWith(':')) continue;
    const value = incoming[key];
    if (Array.isArray(value)) for (const item of value) headers.append(key, item);
    else if (value !== undefined) headers.append(key, value);
  }
  return headers;
}

async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  for (const [key, value] of response.headers) {
    if (key !== 'set-cookie') res.setHeader(key, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (!response.body) {
    res.end();
    return;
  }
  const type = response.headers.get('content-type') ?? '';
  if (type.startsWith('application/json')) {
    res.end(await response.text());
    return;
  }
  // A stream (server-sent events, JSON lines): each chunk as it comes, respecting backpressure.
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.once('drain', go);
          res.once('close', go);
        });
      }
      if (res.destroyed) break;
    }
  } finally {
    reader.cancel().catch(() => undefined);
    res.end();
  }
}

export function createTrpcHttpHandler<TRouter extends AnyTRPCRouter>(options: TrpcHttpHandlerOptions<TRouter>) {
  const { router, basePath, maxBodySize } = options;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const aborter = new AbortController();
    const onClose = () => {
      if (!res.writableEnded) aborter.abort();
    };
    res.once('close', onClose);
    const method = req.method ?? 'GET';
    const hasBody = method !== 'GET' && method !== 'HEAD';
    (hasBody ? readBody(req, maxBodySize) : Promise.resolve(undefined))
      .then(async (body) => {
        const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
        const path = url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length).replace(/\/$/, '') : '';
        const init: RequestInit & { duplex?: 'half' } = {
          method,
          headers: toHeaders(req.headers),
          signal: aborter.signal,
        };
        let request: Request;
        if (body === TOO_LARGE) {
          init.body = tooLargeBody();
          init.duplex = 'half';
          request = new Request(url, init);
        } else if (body !== undefined && isJson(req)) {
          request = new ReadRequest(url, init, body);
        } else {
          if (body !== undefined) init.body = body;
          request = new Request(url, init);
        }
        const response = await resolveResponse<TRouter>({
          router,
          req: request,
          path,
          error: null,
          ...(options.maxBatchSize !== undefined ? { maxBatchSize: options.maxBatchSize } : {}),
          createContext: () => options.createContext(req, res) as never,
          onError: (o) => options.onError?.(o),
        });
        await writeResponse(res, response);
      })
      .catch((err: unknown) => {
        // resolveResponse answers every procedure error itself; this is a broken request
        // (an unreadable URL, a socket error while reading) or a bug.
        options.onUnexpected?.(err);
        if (res.headersSent) {
          res.end();
          return;
        }
        res.statusCode = 400;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            error: { message: 'Malformed request', code: -32600, data: { code: 'BAD_REQUEST', httpStatus: 400 } },
          }),
        );
      })
      .finally(() => res.off('close', onClose));
  };
}
