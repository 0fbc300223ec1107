import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { currentTraceparent } from '@quorum/telemetry';
import { verifyServiceToken } from '@quorum/signaling/tokens';
import { TRPCError } from '@trpc/server';
import { ACCESS_COOKIE } from './auth/auth.router';
import type { GatewayDeps } from './deps';
import { crossSiteRefusal, header, isSecureRequest } from './http/browser-security';
import { parseCookies, serializeCookie } from './http/cookies';
import type { Context, Principal } from './trpc';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
/** A caller's own request id, kept for correlation: it goes into every event's metadata and log line. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** Credentials a caller presents: a Bearer access token, an API key, or the session cookie. */
async function authenticate(
  deps: GatewayDeps,
  bearer: string | undefined,
  apiKey: string | undefined,
  cookie: string | undefined,
): Promise<Principal | null> {
  if (apiKey) {
    const key = await deps.apiKeys.authenticate(apiKey);
    return key ? { kind: 'apiKey', keyId: key.keyId, orgId: key.orgId, role: key.role } : null;
  }
  const token = bearer ?? cookie;
  if (!token) return null;
  const claims = deps.auth.verifyAccess(token);
  return claims
    ? { kind: 'user', userId: claims.sub, email: claims.email, loginId: claims.sid, expiresAt: claims.exp }
    : null;
}

/**
 * The peer address of the connection. Forwarded headers are ignored on purpose: any client
 * can send them, and rate limits keyed by them could be dodged. Behind a reverse proxy this is
 * the proxy's address; `TRUST_PROXY` is believed for `X-Forwarded-Proto` only, not yet for
 * `X-Forwarded-For`.
 */
export function clientIpOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress;
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * A call as it arrived, whichever way it came: over HTTP or a WebSocket (`createRequestContext`
 * reads it from the request), or in process (`createCaller`, in tests).
 */
export interface IncomingCall {
  /** `Authorization: Bearer`, or the WebSocket's `token` connection parameter. */
  bearer?: string | undefined;
  /** `x-api-key`, or the WebSocket's `apiKey` connection parameter. */
  apiKey?: string | undefined;
  cookies: Readonly<Record<string, string>>;
  /** `x-quorum-service-token`. */
  serviceToken?: string | undefined;
  /** `Idempotency-Key`, unchecked yet. */
  idempotencyKey?: string | undefined;
  /** `x-request-id`, unchecked yet. */
  requestId?: string | undefined;
  origin: Context['origin'];
  clientIp: string;
  /** Adds a serialized cookie to the answer; absent where there is no answer to add it to (WebSocket). */
  setCookie?: (serialized: string) => void;
}

export async function createRequestContext(
  deps: GatewayDeps,
  req: IncomingMessage,
  res: ServerResponse | undefined,
  connectionParams?: Record<string, string | undefined> | null,
): Promise<Context> {
  // Before anything runs or any cookie is set; only HTTP has a response to forge with.
  const forged = res ? crossSiteRefusal(req, deps.publicUrl) : undefined;
  if (forged) throw new TRPCError({ code: 'FORBIDDEN', message: forged });
  const authorization = header(req, 'authorization');
  const setCookies: string[] = [];
  return createContext(deps, {
    bearer: authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : connectionParams?.token,
    apiKey: header(req, 'x-api-key') ?? connectionParams?.apiKey,
    cookies: parseCookies(header(req, 'cookie')),
    serviceToken: header(req, 'x-quorum-service-token'),
    idempotencyKey: header(req, 'idempotency-key'),
    requestId: header(req, 'x-request-id'),
    origin: { host: header(req, 'host'), secure: isSecureRequest(req, deps) },
    clientIp: clientIpOf(req),
    ...(res
      ? {
          setCookie: (cookie: string) => {
            if (res.headersSent) return;
            setCookies.push(cookie);
            res.setHeader('Set-Cookie', setCookies);
          },
        }
      : {}),
  });
}

/** The context of one call: its credentials checked, its caller resolved, its headers validated. */
export async function createContext(deps: GatewayDeps, call: IncomingCall): Promise<Context> {
  const { cookies, origin } = call;
  const principal = await authenticate(deps, call.bearer, call.apiKey, cookies[ACCESS_COOKIE]);
  let service: Context['service'] = null;
  if (call.serviceToken !== undefined) {
    const secret = deps.meetings?.serviceSecret;
    const verified = secret
      ? verifyServiceToken(call.serviceToken, secret, Math.floor(deps.now().getTime() / 1000))
      : undefined;
    if (!verified?.ok)
      throw new TRPCError({
        code: 'UNAUTHORIZED',
        message: `Service token refused (${verified ? verified.reason : 'no service secret configured'}).`,
      });
    service = { subject: verified.claims.sub };
  }
  const rawKey = call.idempotencyKey;
  if (rawKey !== undefined && !IDEMPOTENCY_KEY.test(rawKey)) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: 'Idempotency-Key must be 1 to 200 printable ASCII characters.',
    });
  }
  const givenRequestId = call.requestId;
  const requestId = givenRequestId !== undefined && REQUEST_ID.test(givenRequestId) ? givenRequestId : randomUUID();
  return {
    deps,
    principal,
    service,
    origin,
    idempotencyKey: rawKey,
    requestId,
    clientIp: call.clientIp,
    traceparent: currentTraceparent(),
    cookies,
    setCookie(name, value, options) {
      call.setCookie?.(serializeCookie(name, value, { ...options, secure: origin.secure }));
    },
    // Made on first use: most requests never log, and a child logger per request is not free.
    get log() {
      const log = deps.logger.child({
        requestId,
        principal: principal ? (principal.kind === 'user' ? principal.userId : principal.keyId) : null,
      });
      Object.defineProperty(this, 'log', { value: log });
      return log;
    },
  };
}
