/**
 * The gateway's HTTP server: tRPC over HTTP and WebSocket at `/trpc` (plain JSON, no
 * transformer, so any HTTP client can call it), `/health`, `/health/ready`, the public event
 * contract's JSON Schemas under `/schemas/`, the REST surface for integrators under `/v1` (its
 * event stream and OpenAPI document), and optionally
 * static files (the web app) for everything else.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { context as otelContext, trace, SpanKind, SpanStatusCode, propagation } from '@opentelemetry/api';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { createTrpcHttpHandler } from './trpc-http';
import { WebSocketServer } from 'ws';
import { isAllowedOrigin, isSecureRequest, securityHeaders } from './browser-security';
import { createRequestContext } from '../context';
import type { GatewayDeps } from '../deps';
import { appRouter } from '../router';
import { createSchemasRoute } from '../public/schemas.route';
import { DEFAULT_EVENT_STREAM_SETTINGS, type EventStreamSettings } from '../v1/event-stream';
import { createMemoryV1RateLimiter } from '../v1/v1-rate-limit';
import { createV1Handler, V1_PREFIX } from '../v1/v1.http';
import type { RateLimiter } from '@quorum/ratelimit';

export const MAX_BODY_BYTES = 1024 * 1024;
/** The most calls one batch may hold (HTTP or WebSocket); a larger batch is a 400 and runs nothing. */
export const MAX_BATCH_CALLS = 50;
/** WebSocket close code when the socket's credential is revoked or expires (4000–4999: the application's own). */
export const CREDENTIAL_ENDED = 4401;

export interface GatewayServer {
  server: Server;
  listen(port: number, host: string): Promise<{ port: number }>;
  /**
   * Hands WebSocket upgrades of `path` to another service on this server (the embedded SFU's
   * signaling at `/sfu`). `/trpc` is the gateway's own.
   */
  routeUpgrade(path: string, handler: UpgradeHandler): void;
  /** Hands plain HTTP requests of `path` to another service on this server (the SFU's `/sfu/state`). */
  routeRequest(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  /** `/v1` event streams open now. */
  readonly openEventStreams: number;
  /** Lets the web app connect to `origin` too (Content-Security-Policy `connect-src`): the embedded SFU's public signaling origin. */
  allowConnectSource(origin: string): void;
  /** Stops accepting, closes WebSockets, waits for in-flight requests; idempotent. */
  close(): Promise<void>;
}

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** `stat`, or undefined when nothing is there; other failures (permissions, I/O) propagate. */
async function statIfExists(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return undefined;
    throw err;
  }
}

export interface GatewayServerOptions {
  /** Built web app to serve for everything else. */
  staticDir?: string;
  /** Origins besides this one the web app may connect to (SFU signaling on other hosts). */
  connectSources?: readonly string[];
  /** Runs first when the server closes (background work of the gateway, such as the empty-meeting sweep). */
  beforeClose?: () => Promise<void>;
  /** Runs last, once every socket and request is done (what calls needed until then). */
  afterClose?: () => Promise<void>;
  /**
   * `/v1`: its rate limiter (per credential; in-process at 600 calls a minute when absent, so
   * pass a Redis one when several gateways run) and its event stream's timings.
   */
  v1?: { rateLimiter?: RateLimiter; stream?: Partial<EventStreamSettings> };
}

export function createGatewayServer(deps: GatewayDeps, options: GatewayServerOptions = {}): GatewayServer {
  const tracer = trace.getTracer('quorum.gateway');
  const trpcHandler = createTrpcHttpHandler({
    router: appRouter,
    basePath: '/trpc/',
    maxBodySize: MAX_BODY_BYTES,
    maxBatchSize: MAX_BATCH_CALLS,
    createContext: (req, res) => createRequestContext(deps, req, res),
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR')
        deps.logger.error({ err: error.cause ?? error, path }, 'request failed');
    },
    onUnexpected: (err) => deps.logger.warn({ err }, 'request could not be answered'),
  });

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  /** `path`: the request's path as sent, before the query. */
  async function serveStatic(res: ServerResponse, path: string, root: string): Promise<void> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch (err) {
      if (!(err instanceof URIError)) throw err;
      return json(res, 400, { error: 'malformed percent-encoding in the path' });
    }
    // The file system refuses NUL in a path (and it is in no file name we serve).
    if (decoded.includes('\0')) return json(res, 400, { error: 'the path contains a NUL byte' });
    // Source maps would hand out the app's source. They are not built (web/vite.config.ts), and
    // one left in the directory by another build is not served either.
    if (decoded.endsWith('.map')) return json(res, 404, { error: 'not found' });
    const rel = normalize(decoded).replace(/^(\.\.[/\\])+/, '');
    let file = resolve(join(root, rel));
    if (!file.startsWith(resolve(root))) return json(res, 404, { error: 'not found' });
    const info = await statIfExists(file);
    // Client-side routes fall back to the app shell.
    if (!info || info.isDirectory()) file = join(root, 'index.html');
    const shell = await statIfExists(file);
    if (!shell) return json(res, 404, { error: 'not found' });
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  }

  const schemasRoute = createSchemasRoute(deps);
  const v1 = createV1Handler(deps, {
    rateLimiter: options.v1?.rateLimiter ?? createMemoryV1RateLimiter(undefined, () => deps.now().getTime()),
    stream: { ...DEFAULT_EVENT_STREAM_SETTINGS, ...options.v1?.stream },
    maxBodyBytes: MAX_BODY_BYTES,
  });
  const connectSources = [...(options.connectSources ?? [])];
  const requests = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  const server = createServer((req, res) => {
    const secure = isSecureRequest(req, deps);
    for (const [name, value] of Object.entries(securityHeaders(req, { secure, connectSources })))
      res.setHeader(name, value);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/health') return json(res, 200, { status: 'ok' });
    const routed = requests.get(path);
    if (routed) return routed(req, res);
    if (path === '/health/ready') {
      deps.health().then(
        (report) => json(res, report.ready ? 200 : 503, report),
        (err: Error) => json(res, 503, { ready: false, error: err.message }),
      );
      return;
    }
    if (path.startsWith('/schemas/')) return schemasRoute(req, res, path);
    if (path === V1_PREFIX || path.startsWith(`${V1_PREFIX}/`)) return v1.handle(req, res, path);
    if (path.startsWith('/trpc/')) {
      const parent = propagation.extract(otelContext.active(), req.headers);
      const span = tracer.startSpan(
        `trpc ${path.slice(6)}`,
        { kind: SpanKind.SERVER, attributes: { 'http.method': req.method ?? '' } },
        parent,
      );
      res.on('finish', () => {
        span.setAttribute('http.status_code', res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      otelContext.with(trace.setSpan(parent, span), () => trpcHandler(req, res));
      return;
    }
    if (options.staticDir && (req.method === 'GET' || req.method === 'HEAD')) {
      serveStatic(res, path, options.staticDir).catch((err: Error) => {
        deps.logger.error({ err }, 'static file failed');
        if (!res.headersSent) json(res, 500, { error: 'internal error' });
      });
      return;
    }
    json(res, 404, { error: 'not found' });
  });

  // Idle keep-alive sockets outlive those of clients and proxies (commonly 60 s), so a client
  // never reuses a socket at the moment the server closes it (ECONNRESET on a fresh request).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  const wsHandler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: async ({ req, res: socket, info }) => {
      const ctx = await createRequestContext(deps, req, undefined, info.connectionParams);
      // Every call checks the credential again (authedProcedure); this closes the socket as soon
      // as it is taken away or expires, on whichever gateway that happened.
      if (ctx.principal) {
        const unwatch = deps.credentials.watch({ principal: ctx.principal }, (reason) => {
          ctx.log.info({ reason }, 'closing a WebSocket whose credential no longer holds');
          socket.close(CREDENTIAL_ENDED, reason);
        });
        socket.once('close', unwatch);
      }
      return ctx;
    },
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 5_000 },
    maxBatchSize: MAX_BATCH_CALLS,
  });
  const upgrades = new Map<string, UpgradeHandler>();
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const routed = upgrades.get(path);
    if (routed) return routed(req, socket, head);
    if (path !== '/trpc') {
      socket.destroy();
      return;
    }
    // A page on another site could open a socket with the cookies the browser holds for us, and
    // read what it answers (no CORS applies to WebSockets).
    if (!isAllowedOrigin(req, deps.publicUrl)) {
      deps.logger.info({ origin: req.headers.origin }, 'refused a /trpc WebSocket from another origin');
      socket.end(
        'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nWebSockets at /trpc are open to this origin only.\n',
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  let closing: Promise<void> | undefined;
  return {
    server,
    get openEventStreams() {
      return v1.streams.size;
    },
    routeRequest(path, handler) {
      if (
        path === '/health' ||
        path === '/health/ready' ||
        path.startsWith('/trpc/') ||
        path.startsWith(`${V1_PREFIX}/`)
      )
        throw new Error(`${path} is the gateway's own`);
      requests.set(path, handler);
    },
    allowConnectSource(origin) {
      if (!connectSources.includes(origin)) connectSources.push(origin);
    },
    routeUpgrade(path, handler) {
      if (path === '/trpc') throw new Error("/trpc is the gateway's own WebSocket path");
      upgrades.set(path, handler);
    },
    listen: (port, host) =>
      new Promise((resolveListen, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          resolveListen({ port: typeof address === 'object' && address ? address.port : port });
        });
      }),
    close() {
      closing ??= (async () => {
        await options.beforeClose?.();
        // Open event streams would hold the server open; their clients resume with Last-Event-ID.
        v1.close();
        wsHandler.broadcastReconnectNotification();
        for (const client of wss.clients) client.close(1001, 'server shutting down');
        await new Promise<void>((r) => wss.close(() => r()));
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeIdleConnections();
        });
        await options.afterClose?.();
      })();
      return closing;
    },
  };
}
