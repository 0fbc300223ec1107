/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): a secret is `whsec_` and
 * the base64 of its key; a signature is `v1,` and the base64 HMAC-SHA256 of
 * `<webhook-id>.<webhook-timestamp>.<body>`. While a rotated-out secret is still valid, every
 * secret signs and `webhook-signature` lists each signature, space-separated, so a receiver
 * holding either verifies.
 */
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';
/** 32 bytes: the key size of HMAC-SHA256. Standard Webhooks allows 24 to 64. */
const KEY_BYTES = 32;

/** A new secret: `whsec_` and the base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `${PREFIX}${randomBytes(KEY_BYTES).toString('base64')}`;
}

/** The key bytes of a `whsec_` secret; throws on anything else (a stored secret is always one). */
export function webhookSecretKey(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new Error('A webhook secret starts with whsec_.');
  const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
  if (key.length < 24 || key.length > 64) throw new Error('A webhook secret holds 24 to 64 bytes.');
  return key;
}

/** What one delivery signs. */
export interface SignedContent {
  /** `webhook-id`: the same on every attempt of the delivery. */
  readonly id: string;
  /** `webhook-timestamp`: seconds since the epoch, at this attempt. */
  readonly timestamp: number;
  /** The exact body sent. */
  readonly body: string;
}

/** `webhook-signature`: one `v1,<base64>` per secret, space-separated. */
export function signWebhook(content: SignedContent, secrets: readonly string[]): string {
  if (secrets.length === 0) throw new Error('A webhook is signed with at least one secret.');
  const signed = `${content.id}.${content.timestamp}.${content.body}`;
  return secrets
    .map((secret) => `v1,${createHmac('sha256', webhookSecretKey(secret)).update(signed).digest('base64')}`)
    .join(' ');
}

/** The three Standard Webhooks headers of one attempt. */
export function webhookHeaders(content: SignedContent, secrets: readonly string[]): Record<string, string> {
  return {
    'webhook-id': content.id,
    'webhook-timestamp': String(content.timestamp),
    'webhook-signature': signWebhook(content, secrets),
  };
}
