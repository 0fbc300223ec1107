import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signWebhook, webhookHeaders, webhookSecretKey } from './signature';

const body = JSON.stringify({ specversion: '1.0', id: 'e1', data: { userId: 'u1', note: 'ünïcødé' } });

describe('Standard Webhooks signatures', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhookSecretKey(a)).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(a);
    expect(() => webhookSecretKey('sk_live_nope')).toThrow(/whsec_/);
  });

  it('is verified by the standardwebhooks library, a peer implementation', () => {
    const secret = generateWebhookSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders({ id: 'msg_1', timestamp, body }, [secret]);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('signs with every secret during a rotation, so a receiver holding either verifies', () => {
    const previous = generateWebhookSecret();
    const current = generateWebhookSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders({ id: 'msg_2', timestamp, body }, [current, previous]);
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
  });

  it('fails verification when the body, id or timestamp differs from what was signed', () => {
    const secret = generateWebhookSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders({ id: 'msg_3', timestamp, body }, [secret]);
    const wh = new Webhook(secret);
    expect(() => wh.verify(`${body} `, headers)).toThrow(WebhookVerificationError);
    expect(() => wh.verify(body, { ...headers, 'webhook-id': 'msg_4' })).toThrow(WebhookVerificationError);
    expect(() => wh.verify(body, { ...headers, 'webhook-timestamp': String(timestamp - 1) })).toThrow(
      WebhookVerificationError,
    );
  });

  it('refuses to sign with no secret', () => {
    expect(() => signWebhook({ id: 'x', timestamp: 1, body }, [])).toThrow(/at least one/);
  });
});
