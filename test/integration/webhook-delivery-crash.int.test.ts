/**
 * The kill test: the standalone delivery process dies by SIGKILL while a burst of events goes
 * out (no close; attempts in flight, sent but not recorded), a new one takes over the durable
 * and the tables, and every event reaches every endpoint, each duplicate with the same
 * `webhook-id` and body. The second process answers `/health/ready`.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { streamIds } from '@quorum/domain';
import { killAll, spawnService, type ChildService } from '@quorum/runtime/testing';
import {
  appendSessionEvents,
  createEndpoint,
  deliveryCounts,
  openWebhooksTestEnv,
  startReceiver,
  TEST_NATS_URL,
  TEST_PUBLIC_URL,
  waitFor,
  type Receiver,
  type WebhooksTestEnv,
} from '@quorum/webhook-delivery/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectPublicEvent, publicContractValidator } from '../support/public-contract';

const SERVICE_DIR = fileURLToPath(new URL('../../services/webhooks', import.meta.url));
const SESSIONS = 6;
const PER_SESSION = 40;
/** The burst waits here for the kill if it has not landed yet, so it always lands mid-burst. */
const HOLD_AT = 3;

let env: WebhooksTestEnv;
const receivers: Receiver[] = [];

beforeAll(async () => {
  env = await openWebhooksTestEnv('webhook-crash');
});

afterAll(async () => {
  killAll();
  for (const r of receivers) await r.close();
  await env?.close();
});

function spawnWebhooks(durable: string): ChildService {
  return spawnService(SERVICE_DIR, {
    DATABASE_URL: env.databaseUrl,
    NATS_URL: TEST_NATS_URL,
    NATS_NAMESPACE: env.namespace,
    WEBHOOK_DURABLE: durable,
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    WEBHOOK_RETRY_SCALE: '0.001',
    WEBHOOK_TIMEOUT_MS: '1000',
    PUBLIC_URL: TEST_PUBLIC_URL,
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
  });
}

it('delivers every event to every endpoint when the delivery process is SIGKILLed mid-burst and restarted', async () => {
  const orgId = randomUUID();
  const endpoints: { endpointId: string; receiver: Receiver }[] = [];
  for (let n = 0; n < 3; n++) {
    // A short wait per answer keeps attempts in flight when the kill lands.
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 15 }));
    receivers.push(receiver);
    const { endpointId } = await createEndpoint(env.store, env.sql, orgId, receiver.url, ['participant.joined']);
    endpoints.push({ endpointId, receiver });
  }
  const durable = `webhooks-crash-${randomUUID().slice(0, 8)}`;
  const first = spawnWebhooks(durable);
  await waitFor(
    () => first.output().includes('webhooks running'),
    60_000,
    () => `the webhooks process did not start:\n${first.output()}`,
  );

  const ids: string[] = [];
  let killed!: () => void;
  const kill = new Promise<void>((resolve) => (killed = resolve));
  const appending = (async () => {
    for (let round = 0; round < PER_SESSION / 5; round++) {
      if (round === HOLD_AT) await kill;
      for (let s = 0; s < SESSIONS; s++) {
        ids.push(
          ...(await appendSessionEvents(
            env.store,
            orgId,
            `${orgId.slice(0, 8)}-0000-4000-8000-00000000000${s}`,
            5,
            round * 5,
          )),
        );
      }
    }
  })();

  await waitFor(
    () => endpoints.every((e) => e.receiver.received.length >= 20),
    60_000,
    () => `too little delivered before the kill:\n${first.output()}`,
  );
  first.child.kill('SIGKILL');
  expect((await first.exited).signal).toBe('SIGKILL');
  const appendedAtKill = ids.length;
  killed();
  await appending;
  expect(appendedAtKill, 'the kill must land while events are still being appended').toBeLessThan(ids.length);
  const receivedAtKill = endpoints.map((e) => e.receiver.received.length);

  const second = spawnWebhooks(durable);
  for (const { endpointId } of endpoints) {
    await waitFor(
      async () => (await deliveryCounts(env.sql, endpointId)).delivered === ids.length,
      120_000,
      async () =>
        `after the restart ${JSON.stringify(await deliveryCounts(env.sql, endpointId))} of ${ids.length}:\n${second.output()}`,
    );
  }
  const validator = publicContractValidator(TEST_PUBLIC_URL);
  for (const [n, { receiver }] of endpoints.entries()) {
    expect(receiver.received.length).toBeGreaterThan(receivedAtKill[n]!);
    const byId = new Map<string, string>();
    for (const request of receiver.received) {
      const id = String(request.headers['webhook-id']);
      const known = byId.get(id);
      if (known !== undefined) expect(request.body, 'a duplicate carries the same body').toBe(known);
      else {
        const envelope = JSON.parse(request.body) as { id: string; subject: string };
        expectPublicEvent(validator, envelope);
        expect(envelope.id).toBe(id);
        byId.set(id, request.body);
      }
    }
    expect([...byId.keys()].sort()).toEqual([...ids].sort());
    // Per stream, the first arrival of each event is in the order of the stream.
    for (let s = 0; s < SESSIONS; s++) {
      const subject = streamIds.session(`${orgId.slice(0, 8)}-0000-4000-8000-00000000000${s}`);
      const order = [...byId.values()]
        .map((body) => JSON.parse(body) as { subject: string; data: { displayName: string } })
        .filter((e) => e.subject === subject)
        .map((e) => Number(e.data.displayName));
      expect(order).toEqual([...Array(PER_SESSION).keys()]);
    }
  }

  const port = Number(/"healthPort":(\d+)/.exec(second.output())?.[1]);
  const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({ status: 'ready', due: 0 });
  second.child.kill('SIGTERM');
  expect((await second.exited).code).toBe(0);
}, 240_000);
