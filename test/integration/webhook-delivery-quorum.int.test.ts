/**
 * Webhook delivery inside the all-in-one process (its pipeline on the worker thread, PostgreSQL
 * and NATS): an endpoint made with `webhooks.create`, then a purchase through the gateway, which
 * reaches the endpoint on 127.0.0.1 as a signed
 * CloudEvents envelope whose `dataschema` is under PUBLIC_URL, the delivery log shows it, and
 * readiness reports the engine.
 */
import { startReceiver, type Receiver } from '@quorum/webhook-delivery/testing';
import { USER_AGENT } from '@quorum/webhook-delivery/webhooks';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../support/eventually';
import { createOrg, signUp, type TestUser } from '../support/people';
import { expectPublicEvent, publicContractValidator } from '../support/public-contract';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

const PUBLIC_URL = 'https://quorum.example.test';

let q: TestQuorum;
let owner: TestUser;
let orgId: string;
let receiver: Receiver;

beforeAll(async () => {
  q = await startTestQuorum('webhooks', {
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    PUBLIC_URL,
  });
  owner = await signUp(q.http, 'owner');
  ({ orgId } = await createOrg(q.http, owner, 'pro'));
  receiver = await startReceiver();
});

afterAll(async () => {
  await receiver?.close();
  await q?.stop();
});

it('delivers an event made through the gateway, signed, and lists it in the delivery log', async () => {
  const created = (await q.http.mutation(
    'webhooks.create',
    { orgId, url: receiver.url, eventTypes: ['seats.purchased'] },
    { token: owner.token },
  )) as { endpoint: { id: string }; secret: string };
  const { secret } = created;
  const endpointId = created.endpoint.id;
  const endpointFolded = async () => {
    const { rows } = await q.app.sql.query(`SELECT 1 FROM webhook_endpoint_targets WHERE endpoint_id = $1`, [
      endpointId,
    ]);
    expect(rows).toHaveLength(1);
  };
  await eventually(endpointFolded, 20_000);
  await q.http.mutation('seats.purchase', { orgId, quantity: 2 }, { token: owner.token });
  await eventually(() => expect(receiver.received).toHaveLength(1), 20_000);
  const [request] = receiver.received;
  expect(request!.headers['user-agent']).toBe(USER_AGENT);
  const headers = {
    'webhook-id': String(request!.headers['webhook-id']),
    'webhook-timestamp': String(request!.headers['webhook-timestamp']),
    'webhook-signature': String(request!.headers['webhook-signature']),
  };
  expect(() => new Webhook(secret).verify(request!.body, headers)).not.toThrow();
  const envelope = JSON.parse(request!.body) as { type: string; dataschema: string; source: string; id: string };
  expectPublicEvent(publicContractValidator(PUBLIC_URL), envelope);
  expect(envelope).toMatchObject({ type: 'quorum.seats.purchased.v1', source: `/orgs/${orgId}` });
  expect(envelope.dataschema.startsWith(`${PUBLIC_URL}/schemas/`)).toBe(true);

  const log = await q.http.query('webhookDeliveries.list', { orgId, endpointId }, { token: owner.token });
  expect(log).toMatchObject({ items: [{ eventId: envelope.id, status: 'delivered', attempts: 1 }] });
  const ready = (await (await fetch(`${q.baseUrl}/health/ready`)).json()) as {
    checks: Record<string, { ok: boolean; detail?: { delivered?: number } }>;
  };
  expect(ready.checks.webhooks).toMatchObject({ ok: true });
});
