/**
 * What the gateway asks of browsers, and what it believes of them.
 *
 * - Every answer carries the security headers: a Content-Security-Policy the web app (a Vite
 *   SPA: its own scripts and styles, `/trpc` over fetch and server-sent events, WebSockets to
 *   SFU signaling) lives within, no sniffing, no referrer (invitation and verification links
 *   carry their secret in the path), no framing; HSTS only when the request came over https.
 * - A request came over https when `SECURE_COOKIES` says every request does, or when a proxy
 *   trusted with `TRUST_PROXY` says so in `X-Forwarded-Proto`. Untrusted, any client could send
 *   that header, so it is ignored.
 * - A browser names the page that made a request in `Origin` (on every POST and WebSocket
 *   handshake, same-origin or not). A page on another site may POST a form to us with no CORS
 *   preflight, and the browser sends the cookies it holds for us (SameSite only stops that across
 *   sites, not across origins of one site) and takes any `Set-Cookie` in the answer.
 */
import type { IncomingMessage } from 'node:http';

/** The first value of a request header. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Whether the request reached the deployment over TLS (see the module header). */
export function isSecureRequest(req: IncomingMessage, o: { secureCookies: boolean; trustProxy: boolean }): boolean {
  if (o.secureCookies) return true;
  if (!o.trustProxy) return false;
  // The proxy sets it (replacing the client's); a chain of proxies lists the outermost first.
  return header(req, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https';
}

/**
 * Whether the request may come from where its `Origin` says: no Origin at all (a non-browser
 * client), this server (Origin's host is the `Host` header), or `publicUrl`'s origin (the address
 * people use, when a proxy in front rewrites `Host`). `null` (a sandboxed or file page) is not.
 */
export function isAllowedOrigin(req: IncomingMessage, publicUrl: string | undefined): boolean {
  const origin = header(req, 'origin');
  if (origin === undefined) return true;
  if (!URL.canParse(origin)) return false;
  const from = new URL(origin);
  if (from.protocol !== 'http:' && from.protocol !== 'https:') return false;
  if (publicUrl && from.origin === new URL(publicUrl).origin) return true;
  const host = header(req, 'host');
  // Parsed with the Origin's scheme, so a default port written out (`:443`) compares equal.
  return (
    host !== undefined &&
    URL.canParse(`${from.protocol}//${host}`) &&
    new URL(`${from.protocol}//${host}`).host === from.host
  );
}

/**
 * Why a POST to `/trpc` is refused as possibly forged by another site, or undefined. Calls with
 * an `Authorization` or `x-api-key` header are not: a page can only add those after a CORS
 * preflight, which the gateway never grants. The others must come from this origin, and with
 * session cookies must be JSON, which a form cannot send.
 */
export function crossSiteRefusal(req: IncomingMessage, publicUrl: string | undefined): string | undefined {
  if (req.method !== 'POST') return undefined;
  if (header(req, 'authorization') !== undefined || header(req, 'x-api-key') !== undefined) return undefined;
  if (!isAllowedOrigin(req, publicUrl))
    return 'Refused: the request comes from a page on another site (its Origin is not this server).';
  const type = header(req, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (header(req, 'cookie') !== undefined && type !== 'application/json') {
    return 'A call with session cookies must be sent as content-type application/json.';
  }
  return undefined;
}

/** A `Host` header fit to name in a policy: a host name or IP literal and a port, nothing else. */
const PLAIN_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** HSTS lifetime: a year, the usual minimum for preload lists. */
const HSTS_MAX_AGE_SECONDS = 31_536_000;

/**
 * The security headers of an answer. `connectSources`: origins besides this one the web app
 * connects to (SFU signaling on another host).
 */
export function securityHeaders(
  req: IncomingMessage,
  o: { secure: boolean; connectSources: readonly string[] },
): Record<string, string> {
  const host = header(req, 'host');
  // 'self' covers ws: and wss: of this host only in CSP Level 3 browsers; named, it holds in all.
  const sameHostSockets = host !== undefined && PLAIN_HOST.test(host) ? [`ws://${host}`, `wss://${host}`] : [];
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    // The favicon is a data: URI in index.html.
    "img-src 'self' data:",
    `connect-src ${[...new Set(["'self'", ...sameHostSockets, ...o.connectSources])].join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'content-security-policy': policy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    ...(o.secure ? { 'strict-transport-security': `max-age=${HSTS_MAX_AGE_SECONDS}` } : {}),
  };
}
