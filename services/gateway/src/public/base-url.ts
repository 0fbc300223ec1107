import type { IncomingMessage } from 'node:http';
import { isSecureRequest } from '../http/browser-security';
import type { GatewayDeps } from '../deps';

/** A host and optional port, as a `Host` header may carry them (names, IPv4, bracketed IPv6). */
const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The origin integrators reach this gateway at, for the URLs in what it answers (`dataschema`,
 * schema `$id`s, the OpenAPI document's server): `PUBLIC_URL` when set, else the request's own
 * scheme and `Host` (a malformed one falls back to loopback rather than echoing it).
 */
export function publicBaseUrl(
  req: IncomingMessage,
  deps: Pick<GatewayDeps, 'publicUrl' | 'trustProxy' | 'secureCookies'>,
): string {
  if (deps.publicUrl) return new URL(deps.publicUrl).origin;
  const host = req.headers.host;
  const scheme = isSecureRequest(req, deps) ? 'https' : 'http';
  return `${scheme}://${host && HOST.test(host) ? host : '127.0.0.1'}`;
}
