/**
 * The REST adapter of `/v1`: finds the route (`v1.routes.ts`), builds the same context as
 * `/trpc` (`createRequestContext`: API key or Bearer token, Idempotency-Key, request id),
 * counts the call against the credential's rate limit, assembles the procedure's input and runs
 * the procedure through a tRPC caller, so the procedure's middleware (authentication, the
 * credential check, error mapping) and its input schema apply unchanged.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RateLimiter } from '@quorum/ratelimit';
import { createRequestContext } from '../context';
import type { GatewayDeps } from '../deps';
import { LiveFeed } from '../events/events.live';
import { publicBaseUrl } from '../public/base-url';
import { appRouter } from '../router';
import { createCallerFactory, type AuthedContext, type Context } from '../trpc';
import { createEventStreams, type EventStreamSettings } from './event-stream';
import { createOpenApiRoute } from './openapi';
import { errorAnswer, inputErrorOf, sendJson, V1HttpError } from './v1-errors';
import { consumeV1Rate, rateKeyOf } from './v1-rate-limit';
import { V1_ROUTES, type RouteRequest, type V1Route } from './v1.routes';

export const V1_PREFIX = '/v1';

export interface V1Options {
  rateLimiter: RateLimiter;
  stream: EventStreamSettings;
  maxBodyBytes: number;
}

const createCaller = createCallerFactory(appRouter);

interface CompiledRoute {
  route: V1Route;
  pattern: RegExp;
  names: string[];
}

function compile(route: V1Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{(\w+)\\?\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}$`), names };
}

/** The route for `method` and `path`, or the 404 / 405 (with `Allow`) to answer. */
function match(compiled: readonly CompiledRoute[], method: string, path: string) {
  const allowed: string[] = [];
  for (const c of compiled) {
    const m = c.pattern.exec(path);
    if (!m) continue;
    const wanted = method === 'HEAD' ? 'GET' : method;
    if (c.route.method !== wanted) {
      allowed.push(c.route.method);
      continue;
    }
    const params: Record<string, string> = {};
    c.names.forEach((name, i) => {
      params[name] = m[i + 1] ?? '';
    });
    return { route: c.route, params };
  }
  if (allowed.length > 0)
    throw new V1HttpError(
      405,
      'METHOD_NOT_SUPPORTED',
      'v1.method_not_allowed',
      `${path} is not served for ${method}.`,
      {
        allow: allowed.join(', '),
      },
    );
  throw new V1HttpError(404, 'NOT_FOUND', 'v1.not_found', `No /v1 route at ${path}; see /v1/openapi.json.`);
}

function decodeParams(raw: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    try {
      out[name] = decodeURIComponent(value);
    } catch (err) {
      if (!(err instanceof URIError)) throw err;
      throw new V1HttpError(
        400,
        'BAD_REQUEST',
        'input.invalid',
        `Path parameter ${name} is not valid percent-encoding.`,
      );
    }
  }
  return out;
}

function queryOf(url: URL): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    if (Object.hasOwn(query, name))
      throw new V1HttpError(400, 'BAD_REQUEST', 'input.invalid', `Query parameter ${name} is given more than once.`);
    query[name] = value;
  }
  return query;
}

/** The JSON body (at most `max` bytes), or undefined when there is none. */
async function readJsonBody(req: IncomingMessage, max: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) throw tooLarge(max);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw tooLarge(max);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type))
    throw new V1HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'v1.unsupported_media_type',
      'Send the body as application/json.',
    );
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new V1HttpError(400, 'PARSE_ERROR', 'input.malformed_json', `The body is not JSON: ${err.message}`);
  }
}

const tooLarge = (max: number) =>
  new V1HttpError(413, 'PAYLOAD_TOO_LARGE', 'v1.body_too_large', `The body is larger than ${max} bytes.`);

/** Runs procedure `path` through `caller`. */
function procedureOf(caller: unknown, path: string): (input: unknown) => Promise<unknown> {
  let node = caller as Record<string, unknown>;
  for (const part of path.split('.')) node = node[part] as Record<string, unknown>;
  return node as unknown as (input: unknown) => Promise<unknown>;
}

export function createV1Handler(deps: GatewayDeps, options: V1Options) {
  const compiled = V1_ROUTES.map(compile);
  const streams = createEventStreams(options.stream);
  const openapi = createOpenApiRoute(deps);

  async function handle(req: IncomingMessage, res: ServerResponse, fullPath: string, abort: AbortController) {
    const path = fullPath.slice(V1_PREFIX.length) || '/';
    if (path === '/openapi.json') return openapi(req, res);
    const method = req.method ?? 'GET';
    const { route, params: rawParams } = match(compiled, method, path);
    // A HEAD would hold a stream open that sends nothing.
    if (method === 'HEAD' && route.response.kind === 'event-stream')
      throw new V1HttpError(405, 'METHOD_NOT_SUPPORTED', 'v1.method_not_allowed', 'Open the stream with GET.', {
        allow: 'GET',
      });
    const ctx = await createRequestContext(deps, req, res);
    try {
      const rateHeaders = await consumeV1Rate(options.rateLimiter, rateKeyOf(ctx));
      for (const [name, value] of Object.entries(rateHeaders)) res.setHeader(name, value);
      const url = new URL(req.url ?? '/', 'http://v1.invalid');
      const params = route.params.safeParse(decodeParams(rawParams));
      if (!params.success) throw inputErrorOf('path', params.error);
      const query = route.query.safeParse(queryOf(url));
      if (!query.success) throw inputErrorOf('query', query.error);
      const rawBody = method === 'GET' || method === 'HEAD' ? undefined : await readJsonBody(req, options.maxBodyBytes);
      let body: unknown;
      if (route.body) {
        if (typeof rawBody !== 'object' || rawBody === null || Array.isArray(rawBody))
          throw new V1HttpError(400, 'BAD_REQUEST', 'input.invalid', 'The body must be a JSON object.');
        body = rawBody;
      } else if (rawBody !== undefined) {
        throw new V1HttpError(400, 'BAD_REQUEST', 'input.invalid', `${route.method} ${route.path} takes no body.`);
      }
      const lastEventId = req.headers['last-event-id'];
      const request: RouteRequest<never, never, never> = {
        params: params.data as never,
        query: query.data as never,
        body: body as never,
        baseUrl: publicBaseUrl(req, deps),
        lastEventId: typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : undefined,
      };
      const caller = createCaller(ctx, { signal: abort.signal });
      const call = procedureOf(caller, route.procedure);
      const input = route.input(request);
      if (route.response.kind === 'event-stream') {
        // The procedure checks access before the stream opens: a refusal is an ordinary JSON error.
        const feed = await call(input);
        if (!(feed instanceof LiveFeed)) throw new Error(`${route.procedure} did not answer with a live feed`);
        const orgId = (params.data as { orgId: string }).orgId;
        await streams.serve(ctx as AuthedContext, res, orgId, feed.pages(), request.baseUrl, () => abort.abort());
        return;
      }
      const result = route.run ? await route.run(request, call as never, input) : await call(input);
      res.setHeader('x-request-id', ctx.requestId);
      sendJson(res, route.response.status, result);
    } catch (err) {
      answerError(res, err, ctx);
    }
  }

  /** `ctx` is absent when the request failed before its context was made (no route, a refused header). */
  function answerError(res: ServerResponse, err: unknown, ctx: Context | undefined) {
    const requestId = ctx?.requestId ?? randomUUID();
    const { status, body, headers } = errorAnswer(err, requestId, ctx?.log ?? deps.logger.child({ requestId }));
    if (res.headersSent) {
      res.end();
      return;
    }
    sendJson(res, status, body, headers);
  }

  return {
    handle(req: IncomingMessage, res: ServerResponse, path: string): void {
      const abort = new AbortController();
      res.once('close', () => abort.abort());
      handle(req, res, path, abort).catch((err: unknown) => answerError(res, err, undefined));
    },
    streams,
    close() {
      streams.closeAll({
        reason: 'server.shutting_down',
        message: 'This gateway is shutting down; reconnect with Last-Event-ID to resume.',
      });
    },
  };
}

export type V1Handler = ReturnType<typeof createV1Handler>;
