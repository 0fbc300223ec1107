/**
 * The kill test: the billing process dies by SIGKILL while 1,000 usage events stream in (no
 * close, possibly between a call to Stripe and the cursor that records it), a new one takes over
 * the durable, and every usage event ends up reported to Stripe once by identifier: any repeat at
 * the proxy is a retry of the same request under the same Idempotency-Key.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { streamIds } from '@quorum/domain';
import { openConsumerTestEnv, TEST_NATS_URL, waitFor, type ConsumerTestEnv } from '@quorum/relay/testing';
import { killAll, spawnService, type ChildService } from '@quorum/runtime/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOrganization, currentPeriod, meetingUsage } from './testing/billing-test-env';
import { startStripeProxy, testStripeEnv, type StripeProxy } from './testing/stripe-proxy';

const SERVICE_DIR = fileURLToPath(new URL('..', import.meta.url));
const USAGE_EVENTS = 1_000;
const BATCH = 20;
/** The burst waits here for the kill if it has not landed yet, so it always lands mid-burst. */
const HOLD_AT = 600;

let env: ConsumerTestEnv;
let proxy: StripeProxy;

beforeAll(async () => {
  env = await openConsumerTestEnv('billing-crash', 'billing');
  proxy = await startStripeProxy();
}, 60_000);

afterAll(async () => {
  killAll();
  await proxy?.close();
  await env?.close();
});

function spawnBilling(durable: string): ChildService {
  return spawnService(SERVICE_DIR, {
    DATABASE_URL: env.databaseUrl,
    NATS_URL: TEST_NATS_URL,
    NATS_NAMESPACE: env.namespace,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    BILLING_DURABLE: durable,
    BILLING_STRIPE_CALLS_PER_SECOND: '100',
    ...testStripeEnv(proxy.url),
    LOG_LEVEL: 'info',
  });
}

it('reports each of 1,000 usage events once when the billing process is SIGKILLed mid-burst and restarted', async () => {
  const orgId = randomUUID();
  const durable = `billing-crash-${randomUUID().slice(0, 8)}`;
  await createOrganization(env.store, orgId, 'pro', new Date(Date.now() + 86_400_000));
  const first = spawnBilling(durable);
  await waitFor(
    () => first.output().includes('billing running'),
    60_000,
    () => `the billing process did not start:\n${first.output()}`,
  );

  const seconds = Array.from({ length: USAGE_EVENTS }, (_, i) => 20 + ((i * 37) % 400));
  const usage = meetingUsage(orgId, seconds);
  const ids = new Set(usage.map((u) => u.id));
  const meterCalls = () =>
    proxy.calls.filter((c) => c.path === '/v1/billing/meter_events' && ids.has(c.params.identifier!));
  let appended = 0;
  let killed!: () => void;
  const kill = new Promise<void>((resolve) => (killed = resolve));
  const appending = (async () => {
    for (let i = 0; i < usage.length; i += BATCH) {
      if (i === HOLD_AT) await kill;
      await env.store.appendToStream(streamIds.usage(orgId, currentPeriod()), usage.slice(i, i + BATCH));
      appended += BATCH;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();

  await waitFor(
    () => meterCalls().length >= 150,
    60_000,
    () => `the first process reported ${meterCalls().length}; its output:\n${first.output()}`,
  );
  first.child.kill('SIGKILL');
  expect((await first.exited).signal).toBe('SIGKILL');
  const appendedAtKill = appended;
  killed();
  await appending;
  expect(appendedAtKill, 'the kill must land while usage is still being appended').toBeLessThan(USAGE_EVENTS);

  const second = spawnBilling(durable);
  const reported = () =>
    new Set(
      meterCalls()
        .filter((c) => c.status === 200)
        .map((c) => c.params.identifier),
    );
  await waitFor(
    () => reported().size === USAGE_EVENTS,
    120_000,
    () => `after the restart, ${reported().size} of ${USAGE_EVENTS} reported:\n${second.output()}`,
  );

  // Every usage event reported, each under its own key; a repeat is the same request again.
  const byIdentifier = new Map<string, Array<{ key: string | null; value: string | undefined }>>();
  for (const c of meterCalls()) {
    const list = byIdentifier.get(c.params.identifier!) ?? [];
    list.push({ key: c.idempotencyKey, value: c.params['payload[value]'] });
    byIdentifier.set(c.params.identifier!, list);
  }
  expect([...byIdentifier.keys()].sort()).toEqual([...ids].sort());
  for (const [identifier, sends] of byIdentifier) {
    expect(new Set(sends.map((s) => s.key))).toEqual(new Set([`quorum-usage-${identifier}`]));
    expect(new Set(sends.map((s) => s.value)).size).toBe(1);
  }
  const repeats = meterCalls().length - USAGE_EVENTS;
  expect(repeats).toBeLessThanOrEqual(200);

  // The minutes add up to the month's total rounded up once, and the billing stream has one event each.
  const minutes = [...byIdentifier.values()].reduce((sum, sends) => sum + Number(sends[0]!.value), 0);
  expect(minutes).toBe(Math.ceil(seconds.reduce((a, b) => a + b, 0) / 60));
  await waitFor(
    async () =>
      (await env.store.readStream(streamIds.billing(orgId))).filter((e) => e.type === 'billing.usage_reported')
        .length === USAGE_EVENTS,
    30_000,
    () => 'billing.usage_reported events',
  );
  const events = (await env.store.readStream(streamIds.billing(orgId))).filter(
    (e) => e.type === 'billing.usage_reported',
  );
  expect(new Set(events.map((e) => (e.data as { usageEventId: string }).usageEventId))).toEqual(ids);

  second.child.kill('SIGTERM');
  expect((await second.exited).code).toBe(0);
}, 240_000);
