/**
 * Webhook delivery under other settings, each test with an engine of its own: outbound
 * addresses refused at delivery when loopback is not allowed (the receiver on 127.0.0.1 sees
 * nothing), an attempt cut off by the timeout, and an endpoint failing for longer than the
 * window disabled, with an injected clock.
 */
import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { streamIds } from '@quorum/domain';
import { Webhooks, type WebhooksOptions } from '@quorum/webhook-delivery/webhooks';
import {
  appendEndpointEvent,
  appendSessionEvents,
  attemptsOf,
  createEndpoint,
  deliveryCounts,
  logger,
  openWebhooksTestEnv,
  startReceiver,
  targetStatus,
  TEST_PUBLIC_URL,
  waitFor,
  type Receiver,
  type WebhooksTestEnv,
} from '@quorum/webhook-delivery/testing';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { expectPublicEvent, publicContractValidator } from '../support/public-contract';

let env: WebhooksTestEnv;
let webhooks: Webhooks | undefined;
const receivers: Receiver[] = [];

beforeAll(async () => {
  env = await openWebhooksTestEnv('webhook-guard');
});

afterEach(async () => {
  await webhooks?.close();
  webhooks = undefined;
});

afterAll(async () => {
  for (const r of receivers) await r.close();
  await env?.close();
});

async function start(overrides: Partial<WebhooksOptions>): Promise<Webhooks> {
  webhooks = await Webhooks.create({
    store: env.store,
    bus: env.bus,
    sql: env.sql,
    logger,
    durableName: `guard-${randomUUID().slice(0, 8)}`,
    publicUrl: TEST_PUBLIC_URL,
    policy: { allowHttp: true, allowLoopback: true },
    retryScale: 0.001,
    timeoutMs: 3_000,
    pollMs: 25,
    ...overrides,
  });
  await webhooks.start();
  return webhooks;
}

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

async function endpoint(orgId: string, url: string) {
  const created = await createEndpoint(env.store, env.sql, orgId, url, ['participant.joined']);
  await waitFor(
    async () => (await targetStatus(env.sql, created.endpointId)) !== undefined,
    20_000,
    () => `the fan-out did not fold the endpoint at ${url}`,
  );
  return created.endpointId;
}

/** Deletes the endpoint and waits until the fan-out has folded it, so no later engine sends its leftovers. */
async function retire(orgId: string, endpointId: string): Promise<void> {
  await appendEndpointEvent(env.store, orgId, 'endpoint.deleted', { endpointId, by: randomUUID() });
  await waitFor(
    async () => (await targetStatus(env.sql, endpointId)) === 'deleted',
    20_000,
    () => 'the deletion was not folded',
  );
}

it('refuses loopback, private and metadata addresses at delivery, and a name resolving to loopback, connecting to none', async () => {
  const r = await receiver();
  // A name that resolves to the receiver's loopback address, as a rebinding attacker's would;
  // every other name (localhost) as the system resolves it.
  await start({
    policy: { allowHttp: true, allowLoopback: false },
    resolve: async (host) =>
      host === 'rebound.example.test'
        ? [{ address: '127.0.0.1', family: 4 }]
        : lookup(host, { all: true, verbatim: true }),
  });
  const orgId = randomUUID();
  const urls = [
    `http://127.0.0.1:${r.port}/hook`,
    `http://rebound.example.test:${r.port}/hook`,
    `http://localhost:${r.port}/hook`,
    `http://10.0.0.1:${r.port}/hook`,
    `http://169.254.169.254/latest/meta-data`,
  ];
  const endpoints = [];
  for (const url of urls) endpoints.push(await endpoint(orgId, url));
  await appendSessionEvents(env.store, orgId, randomUUID(), 1);
  for (const [n, endpointId] of endpoints.entries()) {
    await waitFor(
      async () => (await attemptsOf(env.sql, endpointId)).length >= 2,
      20_000,
      () => `no attempts for ${urls[n]}`,
    );
    const attempts = await attemptsOf(env.sql, endpointId);
    for (const attempt of attempts) {
      expect(attempt.error_class, urls[n]).toBe('address_not_allowed');
      expect(attempt.status).toBeNull();
    }
    expect(attempts[0]!.error_message).toMatch(/loopback|private|link-local|reserved/);
    expect((await deliveryCounts(env.sql, endpointId)).delivered).toBeUndefined();
  }
  expect(r.received, 'no request reached the receiver').toEqual([]);
  for (const endpointId of endpoints) await retire(orgId, endpointId);
});

it('records an attempt the receiver never answers as a timeout, and tries again', async () => {
  const r = await receiver(() => 'never');
  await start({ timeoutMs: 300 });
  const orgId = randomUUID();
  const endpointId = await endpoint(orgId, r.url);
  await appendSessionEvents(env.store, orgId, randomUUID(), 1);
  await waitFor(
    async () => (await attemptsOf(env.sql, endpointId)).length >= 2,
    20_000,
    () => 'no second attempt after the timeout',
  );
  const [first, second] = await attemptsOf(env.sql, endpointId);
  expect(first).toMatchObject({ n: 1, status: null, error_class: 'timeout' });
  expect(first!.duration_ms).toBeGreaterThanOrEqual(290);
  expect(second!.n).toBe(2);
  expect(r.received[1]!.headers['webhook-id']).toBe(r.received[0]!.headers['webhook-id']);
  expectPublicEvent(publicContractValidator(TEST_PUBLIC_URL), JSON.parse(r.received[0]!.body));
  await retire(orgId, endpointId);
});

it('disables an endpoint with no success for longer than the window, once, as failing', async () => {
  let offsetMs = 0;
  const r = await receiver(() => ({ status: 500 }));
  await start({
    now: () => new Date(Date.now() + offsetMs),
    disableAfterMs: 5 * 86_400_000,
    // The schedule at full length: with the clock moved on, the next attempt is due at once.
    retryScale: 1,
  });
  const orgId = randomUUID();
  const endpointId = await endpoint(orgId, r.url);
  await appendSessionEvents(env.store, orgId, randomUUID(), 1);
  await waitFor(
    async () => (await attemptsOf(env.sql, endpointId)).length >= 1,
    20_000,
    () => 'no first attempt',
  );
  const [first] = await attemptsOf(env.sql, endpointId);
  expect(await targetStatus(env.sql, endpointId)).toBe('enabled');

  // Four days on: failing, but within the window.
  offsetMs = 4 * 86_400_000;
  await waitFor(
    async () => (await attemptsOf(env.sql, endpointId)).length >= 2,
    20_000,
    () => 'no attempt four days on',
  );
  expect(await targetStatus(env.sql, endpointId)).toBe('enabled');

  offsetMs = 6 * 86_400_000;
  await waitFor(
    async () => (await targetStatus(env.sql, endpointId)) === 'disabled',
    20_000,
    () => 'not disabled six days on',
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  const disabled = (await env.store.readStream(streamIds.webhooks(orgId))).filter(
    (e) => e.type === 'endpoint.disabled',
  );
  expect(disabled).toHaveLength(1);
  expect(disabled[0]!.data).toMatchObject({
    endpointId,
    reason: 'failing',
    failingSince: first!.at.toISOString(),
  });
  const attempts = (await attemptsOf(env.sql, endpointId)).length;
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect((await attemptsOf(env.sql, endpointId)).length, 'nothing is sent while it is disabled').toBe(attempts);
});
