/**
 * `POST /webhooks/stripe`: Stripe's webhook deliveries (docs/api.md). The raw body is read
 * whole, up to {@link MAX_STRIPE_WEBHOOK_BYTES}, because the signature covers its exact bytes;
 * {@link StripeWebhookHandler} checks and handles it. Without a webhook secret the route
 * answers 404 saying Stripe is not connected.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { StripeWebhookHandler } from './stripe-webhook.handler';

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';

/** Stripe's event payloads are a few tens of kilobytes; an invoice lists at most its first page of lines. */
export const MAX_STRIPE_WEBHOOK_BYTES = 1024 * 1024;

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function createStripeWebhookRoute(handler: StripeWebhookHandler | undefined, logger: Logger) {
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (!handler) {
      json(res, 404, {
        error: 'Stripe is not connected: this Quorum has no STRIPE_WEBHOOK_SECRET, so it takes no Stripe webhooks.',
      });
      return;
    }
    if (req.method !== 'POST') {
      json(res, 405, { error: 'Stripe webhooks are POSTed.' }, { allow: 'POST' });
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_STRIPE_WEBHOOK_BYTES) {
      json(res, 413, { error: `the body is over ${MAX_STRIPE_WEBHOOK_BYTES} bytes` }, { connection: 'close' });
      return;
    }
    const header = req.headers['stripe-signature'];
    readBody(req, MAX_STRIPE_WEBHOOK_BYTES)
      .then((body) => handler.handle(body, Array.isArray(header) ? header[0] : header))
      .then(
        (answer) => json(res, answer.status, answer.body),
        (err: unknown) => {
          if (err instanceof BodyTooLarge) {
            if (!res.headersSent)
              json(res, 413, { error: `the body is over ${MAX_STRIPE_WEBHOOK_BYTES} bytes` }, { connection: 'close' });
            return;
          }
          // Stripe retries a 5xx with backoff for days: what failed here (the store, the
          // database) gets another chance, and the derived ids keep a retry from doubling anything.
          logger.error({ err }, 'Stripe webhook could not be handled; Stripe will retry it');
          if (!res.headersSent) json(res, 500, { error: 'the webhook could not be handled; retry later' });
        },
      );
  };
}
