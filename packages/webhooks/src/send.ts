/**
 * One webhook attempt: a POST to the endpoint through the address guard, with a deadline over
 * the whole exchange, no redirects followed (a 3xx is an answer, and not a success), and the
 * answer's body kept to a few KiB for the attempt log. Sockets are kept alive per endpoint
 * origin, so a busy endpoint is not paying a handshake per event.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { addressRefusal, guardedLookup, UnsafeEndpointError, type OutboundPolicy, type Resolver } from './url-guard';

/** How long one attempt may take, connection to last byte (Standard Webhooks suggests 15 s). */
export const DEFAULT_TIMEOUT_MS = 15_000;
/** How much of an answer's body the attempt log keeps. */
export const RESPONSE_EXCERPT_BYTES = 4_096;
/** Past this much body the rest is not waited for: the socket is dropped. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

/** Why an attempt got no HTTP answer. */
export type SendErrorKind = 'timeout' | 'address_not_allowed' | 'connection' | 'tls' | 'invalid_url';

/** What one attempt came to. */
export type SendOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      /** The body's first {@link RESPONSE_EXCERPT_BYTES} bytes, as UTF-8. */
      readonly body: string;
      readonly truncated: boolean;
      readonly durationMs: number;
    }
  | { readonly kind: 'error'; readonly error: SendErrorKind; readonly message: string; readonly durationMs: number };

export interface WebhookSenderOptions {
  readonly policy: OutboundPolicy;
  readonly timeoutMs?: number;
  /** DNS, for tests that make a name resolve where they want; the system's by default. */
  readonly resolve?: Resolver;
  /** Sockets kept per endpoint origin (default 8). */
  readonly maxSocketsPerOrigin?: number;
}

export interface WebhookSender {
  send(url: string, headers: Readonly<Record<string, string>>, body: string): Promise<SendOutcome>;
  /** Closes idle kept-alive sockets. */
  close(): void;
}

const TLS_ERROR = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/;

function classify(err: unknown): { error: SendErrorKind; message: string } {
  if (err instanceof UnsafeEndpointError) return { error: 'address_not_allowed', message: err.message };
  const e = err as NodeJS.ErrnoException;
  if (e.code && TLS_ERROR.test(e.code)) return { error: 'tls', message: `${e.code}: ${e.message}` };
  return { error: 'connection', message: e.code ? `${e.code}: ${e.message}` : e.message };
}

function flatHeaders(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers))
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const lookup = guardedLookup(options.policy, options.resolve);
  const agentOptions = { keepAlive: true, maxSockets: options.maxSocketsPerOrigin ?? 8, maxFreeSockets: 4 };
  const http = new HttpAgent(agentOptions);
  const https = new HttpsAgent(agentOptions);

  function send(url: string, headers: Readonly<Record<string, string>>, body: string): Promise<SendOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    if (!URL.canParse(url))
      return Promise.resolve({ kind: 'error', error: 'invalid_url', message: 'not a URL', durationMs: 0 });
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    if (!secure && !(target.protocol === 'http:' && options.policy.allowHttp))
      return Promise.resolve({
        kind: 'error',
        error: 'invalid_url',
        message: `${target.protocol} endpoints are not allowed here`,
        durationMs: 0,
      });
    // A literal address never goes through `lookup` (the socket connects to it as is).
    const literal = target.hostname.replace(/^\[|\]$/g, '');
    const refusal = isIP(literal) !== 0 ? addressRefusal(literal, options.policy) : undefined;
    if (refusal)
      return Promise.resolve({ kind: 'error', error: 'address_not_allowed', message: refusal, durationMs: 0 });
    return new Promise<SendOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: SendOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(outcome);
      };
      const payload = Buffer.from(body);
      const req = (secure ? httpsRequest : httpRequest)(
        target,
        {
          method: 'POST',
          agent: secure ? https : http,
          lookup,
          headers: { ...headers, 'content-length': String(payload.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          let seen = 0;
          res.on('data', (chunk: Buffer) => {
            seen += chunk.length;
            if (kept < RESPONSE_EXCERPT_BYTES) {
              const part = chunk.subarray(0, RESPONSE_EXCERPT_BYTES - kept);
              chunks.push(part);
              kept += part.length;
            }
            // An endpoint answering with megabytes is not read to the end: the answer is known.
            if (seen > DRAIN_LIMIT_BYTES) res.destroy();
          });
          const done = () =>
            finish({
              kind: 'response',
              status: res.statusCode ?? 0,
              headers: flatHeaders(res),
              body: Buffer.concat(chunks).toString('utf8'),
              truncated: seen > kept,
              durationMs: elapsed(),
            });
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
        },
      );
      const deadline = setTimeout(() => {
        finish({
          kind: 'error',
          error: 'timeout',
          message: `no complete answer within ${timeoutMs} ms`,
          durationMs: elapsed(),
        });
        req.destroy();
      }, timeoutMs);
      req.on('error', (err) => finish({ kind: 'error', ...classify(err), durationMs: elapsed() }));
      req.end(payload);
    });
  }

  return {
    send,
    close() {
      http.destroy();
      https.destroy();
    },
  };
}
