/**
 * The engine on the embedded adapters of `npm start` (PGlite, one session shared by the store
 * and the engine, and the in-process bus): an endpoint's events are fanned out and delivered,
 * signed, in order.
 */
import { randomUUID } from 'node:crypto';
import { createMemoryBus } from '@quorum/bus';
import { createPgliteSqlDatabase, migratePublicSchema } from '@quorum/db';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { Relay } from '@quorum/relay/relay';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, expect, it } from 'vitest';
import {
  appendSessionEvents,
  createEndpoint,
  startReceiver,
  TEST_PUBLIC_URL,
  waitFor,
  webhookHeadersOf,
} from './testing/webhooks-test-env';
import { Webhooks } from './webhooks';

const closers: Array<() => Promise<unknown>> = [];

afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

it('fans out and delivers on PGlite and the in-process bus', async () => {
  const logger = pino({ level: 'warn' });
  const sql = await createPgliteSqlDatabase();
  closers.push(() => sql.close());
  await migratePublicSchema(sql);
  const store = await PostgresEventStore.create(sql);
  closers.push(() => store.close());
  const bus = createMemoryBus();
  closers.push(() => bus.close());
  const relay = await Relay.create({ store, bus, sql, logger, checkpointIntervalMs: 0 });
  relay.start();
  closers.push(() => relay.close());
  const webhooks = await Webhooks.create({
    store,
    bus,
    sql,
    logger,
    publicUrl: TEST_PUBLIC_URL,
    policy: { allowHttp: true, allowLoopback: true },
    retryScale: 0.001,
    pollMs: 25,
  });
  await webhooks.start();
  closers.push(() => webhooks.close());
  const receiver = await startReceiver((_, n) => (n === 1 ? { status: 500 } : { status: 204 }));
  closers.push(() => receiver.close());

  const orgId = randomUUID();
  const { secret } = await createEndpoint(store, sql, orgId, receiver.url, ['participant.joined']);
  const ids = await appendSessionEvents(store, orgId, randomUUID(), 4);
  await waitFor(
    () => new Set(receiver.received.map((r) => r.headers['webhook-id'])).size === 4,
    30_000,
    () => `received ${receiver.received.length}`,
  );
  const firsts = [...new Set(receiver.received.map((r) => String(r.headers['webhook-id'])))];
  expect(firsts).toEqual(ids);
  for (const request of receiver.received)
    expect(() => new Webhook(secret).verify(request.body, webhookHeadersOf(request))).not.toThrow();
  // A delivery is recorded after its answer: the last one may still be in flight for a moment.
  await waitFor(
    async () => (await webhooks.readiness()).detail.delivered === 4,
    10_000,
    () => 'the fourth delivery was not recorded',
  );
  expect((await webhooks.readiness()).detail).toMatchObject({ due: 0, delivered: 4, failedAttempts: 1 });
}, 60_000);
