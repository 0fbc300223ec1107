/**
 * Webhook delivery against real PostgreSQL and NATS, with receivers on 127.0.0.1: what the
 * receiver gets (Standard Webhooks signatures checked by the `standardwebhooks` library, the
 * public contract checked by its JSON Schemas), order per stream through failures, at least
 * once with one `webhook-id` per event, the answers that change course (410, 429, 3xx), two
 * engines on one table, recovery, and a replay by a second durable.
 */
import { randomUUID } from 'node:crypto';
import {
  deliveryId as deliveryIdOf,
  USER_AGENT,
  Webhooks,
  type WebhooksOptions,
} from '@quorum/webhook-delivery/webhooks';
import { recoverDeliveries, resendDelivery } from '@quorum/webhook-delivery/recovery';
import {
  appendEndpointEvent,
  appendSessionEvents,
  attemptsOf,
  createEndpoint,
  deliveryCounts,
  logger,
  openWebhooksTestEnv,
  rotateSecret,
  startReceiver,
  targetStatus,
  TEST_PUBLIC_URL,
  waitFor,
  webhookHeadersOf,
  type Receiver,
  type Received,
  type WebhooksTestEnv,
} from '@quorum/webhook-delivery/testing';
import { streamIds } from '@quorum/domain';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { expectPublicEvent, publicContractValidator } from '../support/public-contract';

const validator = publicContractValidator(TEST_PUBLIC_URL);

let env: WebhooksTestEnv;
let webhooks: Webhooks;
const receivers: Receiver[] = [];
const extra: Webhooks[] = [];

function engine(overrides: Partial<WebhooksOptions> = {}): Promise<Webhooks> {
  return Webhooks.create({
    store: env.store,
    bus: env.bus,
    sql: env.sql,
    logger,
    publicUrl: TEST_PUBLIC_URL,
    policy: { allowHttp: true, allowLoopback: true },
    // Retries 5,000 times sooner: a receiver failing 30% at random is through its worst streaks in seconds.
    retryScale: 0.0002,
    timeoutMs: 3_000,
    pollMs: 25,
    concurrency: 16,
    ...overrides,
  });
}

beforeAll(async () => {
  env = await openWebhooksTestEnv('webhook-delivery');
  webhooks = await engine();
  await webhooks.start();
});

afterEach(async () => {
  for (const e of extra.splice(0)) await e.close();
});

afterAll(async () => {
  await webhooks?.close();
  for (const r of receivers) await r.close();
  await env?.close();
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

/**
 * An organization with one endpoint at `r`, folded in by the fan-out. It takes the session
 * events the tests append, not the organization's endpoint events (public too).
 */
async function endpointAt(r: Receiver, eventTypes: string[] = ['participant.joined']) {
  const orgId = randomUUID();
  const endpoint = await createEndpoint(env.store, env.sql, orgId, r.url, eventTypes);
  await waitFor(
    async () => (await targetStatus(env.sql, endpoint.endpointId)) === 'enabled',
    20_000,
    () => 'the fan-out did not fold endpoint.created',
  );
  return { orgId, ...endpoint };
}

function envelope(request: Received): { id: string; subject: string; data: { displayName?: string } } {
  const body = JSON.parse(request.body) as unknown;
  expectPublicEvent(validator, body);
  return body as { id: string; subject: string; data: { displayName?: string } };
}

/** Received requests, one per webhook-id (the first), checking that duplicates are identical. */
function applied(r: Receiver): Map<string, Received> {
  const seen = new Map<string, Received>();
  for (const request of r.received) {
    const id = String(request.headers['webhook-id']);
    expect(envelope(request).id).toBe(id);
    const first = seen.get(id);
    if (first) expect(request.body).toBe(first.body);
    else seen.set(id, request);
  }
  return seen;
}

it('signs each delivery so standardwebhooks verifies it, with the contract envelope and webhook-id = the event id', async () => {
  const r = await receiver();
  const { orgId, secret } = await endpointAt(r);
  const sessionId = randomUUID();
  const ids = await appendSessionEvents(env.store, orgId, sessionId, 3);
  await waitFor(
    () => r.received.length >= 3,
    20_000,
    () => `received ${r.received.length} of 3`,
  );
  const verifier = new Webhook(secret);
  expect(r.received.map((q) => q.headers['webhook-id'])).toEqual(ids);
  for (const request of r.received) {
    expect(() => verifier.verify(request.body, webhookHeadersOf(request))).not.toThrow();
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['user-agent']).toBe(USER_AGENT);
    expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    const body = envelope(request);
    expect(body.subject).toBe(streamIds.session(sessionId));
    // The SFU node is Quorum's own: the public data leaves it out.
    expect(body.data).not.toHaveProperty('node');
  }
  // The deliverer records an outcome after the receiver has answered: wait for the record.
  const endpointId = (await endpointOf(ids[0]!))!;
  await expect.poll(() => deliveryCounts(env.sql, endpointId), { timeout: 20_000 }).toEqual({ delivered: 3 });
});

async function endpointOf(eventId: string): Promise<string | undefined> {
  const { rows } = await env.sql.query<{ endpoint_id: string }>(
    `SELECT endpoint_id FROM webhook_deliveries WHERE event_id = $1`,
    [eventId],
  );
  return rows[0]?.endpoint_id;
}

it('signs with both secrets during a rotation overlap, and with the new one alone after it', async () => {
  const r = await receiver();
  const { orgId, endpointId, secret: previous } = await endpointAt(r);
  const current = await rotateSecret(env.store, env.sql, orgId, endpointId, new Date(Date.now() + 3_600_000));
  await appendSessionEvents(env.store, orgId, randomUUID(), 1);
  await waitFor(
    () => r.received.length >= 1,
    20_000,
    () => 'nothing received during the overlap',
  );
  const during = r.received[0]!;
  expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
  expect(() => new Webhook(previous).verify(during.body, webhookHeadersOf(during))).not.toThrow();
  expect(() => new Webhook(current).verify(during.body, webhookHeadersOf(during))).not.toThrow();
  envelope(during);

  await env.sql.query(`UPDATE webhook_secrets SET expires_at = now() - interval '1 second' WHERE secret = $1`, [
    previous,
  ]);
  await appendSessionEvents(env.store, orgId, randomUUID(), 1);
  await waitFor(
    () => r.received.length >= 2,
    20_000,
    () => 'nothing received after the overlap',
  );
  const after = r.received[1]!;
  expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
  expect(() => new Webhook(current).verify(after.body, webhookHeadersOf(after))).not.toThrow();
  expect(() => new Webhook(previous).verify(after.body, webhookHeadersOf(after))).toThrow();
});

it('delivers only the event types an endpoint asked for, and nothing from before it existed', async () => {
  const r = await receiver();
  const orgId = randomUUID();
  const before = await appendSessionEvents(env.store, orgId, randomUUID(), 2);
  const { endpointId } = await createEndpoint(env.store, env.sql, orgId, r.url, ['seats.purchased']);
  const purchase = await env.store.appendToStream(streamIds.seats(orgId), [
    {
      id: randomUUID(),
      type: 'seats.purchased',
      version: 1,
      data: { quantity: 2, total: 2 },
      metadata: { orgId, actor: { kind: 'system', id: 'test' }, correlationId: randomUUID(), causationId: null },
    },
  ]);
  await appendSessionEvents(env.store, orgId, randomUUID(), 2);
  await waitFor(
    () => r.received.length >= 1,
    20_000,
    () => 'the purchase was not delivered',
  );
  // Later session events were fanned out (or not) by the time a later marker is: wait for a second endpoint's.
  const marker = await receiver();
  await createEndpoint(env.store, env.sql, orgId, marker.url);
  await appendSessionEvents(env.store, orgId, randomUUID(), 1);
  await waitFor(
    () => marker.received.length >= 1,
    20_000,
    () => 'the marker was not delivered',
  );
  expect(r.received.map((q) => JSON.parse(q.body).type)).toEqual(['quorum.seats.purchased.v1']);
  envelope(r.received[0]!);
  expect(Number(JSON.parse(r.received[0]!.body).sequence)).toBe(Number(purchase.position));
  const { rows } = await env.sql.query(`SELECT 1 FROM webhook_deliveries WHERE event_id = ANY($1::uuid[])`, [before]);
  expect(rows).toEqual([]);
  await expect.poll(() => deliveryCounts(env.sql, endpointId), { timeout: 20_000 }).toEqual({ delivered: 1 });
});

it('keeps each stream in order for an endpoint that fails some requests', async () => {
  // Every third request fails with 500: the stream's next event waits for the retry.
  const r = await receiver((_, n) => (n % 3 === 1 ? { status: 500 } : { status: 200 }));
  const { orgId } = await endpointAt(r);
  const sessions = [randomUUID(), randomUUID(), randomUUID()];
  await Promise.all(sessions.map((s) => appendSessionEvents(env.store, orgId, s, 12)));
  await waitFor(
    () => applied(r).size >= 36,
    60_000,
    () => `applied ${applied(r).size} of 36`,
  );
  for (const sessionId of sessions) {
    const order = r.received
      .map((q) => envelope(q))
      .filter((e) => e.subject === streamIds.session(sessionId))
      .map((e) => Number(e.data.displayName));
    // Repeats of a failed one come right after it; the first arrival of each is in order.
    const firsts = order.filter((n, i) => order.indexOf(n) === i);
    expect(firsts).toEqual([...Array(12).keys()]);
    for (let i = 1; i < order.length; i++) expect(order[i]!).toBeGreaterThanOrEqual(order[i - 1]!);
  }
  expect(r.received.filter((q) => q.headers['webhook-id'] === undefined)).toEqual([]);
});

it('delivers everything to a receiver that fails 30% of requests, each event applied once by its webhook-id', async () => {
  let randomState = 42;
  const random = () => {
    randomState = (randomState * 1_103_515_245 + 12_345) % 2 ** 31;
    return randomState / 2 ** 31;
  };
  const r = await receiver(() => (random() < 0.3 ? { status: 503 } : { status: 200 }));
  const { orgId, endpointId } = await endpointAt(r);
  const ids = (
    await Promise.all(
      [randomUUID(), randomUUID(), randomUUID(), randomUUID()].map((s) => appendSessionEvents(env.store, orgId, s, 25)),
    )
  ).flat();
  await waitFor(
    async () => (await deliveryCounts(env.sql, endpointId)).delivered === ids.length,
    90_000,
    async () => `delivered ${JSON.stringify(await deliveryCounts(env.sql, endpointId))} of ${ids.length}`,
  );
  const once = applied(r);
  expect([...once.keys()].sort()).toEqual([...ids].sort());
  expect(r.received.length, 'some requests were answered 503 and sent again').toBeGreaterThan(ids.length);
  const attempts = await attemptsOf(env.sql, endpointId);
  expect(attempts).toHaveLength(r.received.length);
  expect(attempts.filter((a) => a.status === 503).every((a) => a.error_class === 'http')).toBe(true);
});

it('disables an endpoint that answers 410 Gone, with one endpoint.disabled', async () => {
  const r = await receiver(() => ({ status: 410 }));
  const { orgId, endpointId } = await endpointAt(r);
  await appendSessionEvents(env.store, orgId, randomUUID(), 3);
  await appendSessionEvents(env.store, orgId, randomUUID(), 3);
  await waitFor(
    async () => (await targetStatus(env.sql, endpointId)) === 'disabled',
    20_000,
    () => 'the endpoint was not disabled',
  );
  // Let anything in flight land, then count.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const disabled = (await env.store.readStream(streamIds.webhooks(orgId))).filter(
    (e) => e.type === 'endpoint.disabled',
  );
  expect(disabled).toHaveLength(1);
  expect(disabled[0]!.data).toMatchObject({ endpointId, reason: 'gone' });
  const sent = r.received.length;
  expect(sent).toBeLessThanOrEqual(2);
  await appendSessionEvents(env.store, orgId, randomUUID(), 2);
  await new Promise((resolve) => setTimeout(resolve, 800));
  expect(r.received.length, 'nothing goes to a disabled endpoint').toBe(sent);
  expect((await deliveryCounts(env.sql, endpointId)).pending).toBeGreaterThanOrEqual(6);
});

it('honours Retry-After on 429: no attempt sooner', async () => {
  const r = await receiver((_, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 204 }));
  const { orgId, endpointId } = await endpointAt(r);
  await appendSessionEvents(env.store, orgId, randomUUID(), 1);
  await waitFor(
    () => r.received.length >= 2,
    20_000,
    () => `received ${r.received.length} of 2`,
  );
  expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(2_000);
  expect(r.received[1]!.headers['webhook-id']).toBe(r.received[0]!.headers['webhook-id']);
  // The delivered attempt is recorded after its answer is in: wait for the record too.
  let attempts = await attemptsOf(env.sql, endpointId);
  await waitFor(
    async () => (attempts = await attemptsOf(env.sql, endpointId)).length >= 2,
    10_000,
    () => `attempts recorded: ${attempts.length}`,
  );
  expect(attempts.map((a) => a.status)).toEqual([429, 204]);
  expect(attempts[0]!.response_headers).toMatchObject({ 'retry-after': '2' });
});

it('does not follow a redirect: a 3xx is a failed attempt', async () => {
  const elsewhere = await receiver();
  const r = await receiver(() => ({ status: 307, headers: { location: elsewhere.url } }));
  const { orgId, endpointId } = await endpointAt(r);
  await appendSessionEvents(env.store, orgId, randomUUID(), 1);
  await waitFor(
    async () => (await attemptsOf(env.sql, endpointId)).length >= 2,
    20_000,
    () => 'no retry after the redirect',
  );
  expect(elsewhere.received).toEqual([]);
  const [first] = await attemptsOf(env.sql, endpointId);
  expect(first).toMatchObject({ status: 307, error_class: 'http' });
  expect((await deliveryCounts(env.sql, endpointId)).delivered).toBeUndefined();
});

it('never sends one delivery from two engines at once', async () => {
  const second = await engine({ fanOut: false });
  extra.push(second);
  await second.start();
  let overlap = 0;
  const inFlight = new Set<string>();
  // Slow answers keep attempts in flight long enough for the engines to race for them.
  const r = await receiver((request) => {
    const id = String(request.headers['webhook-id']);
    if (inFlight.has(id)) overlap++;
    inFlight.add(id);
    return { status: 204, delayMs: 40, then: () => inFlight.delete(id) };
  });
  const { orgId, endpointId } = await endpointAt(r);
  const ids = (
    await Promise.all(Array.from({ length: 10 }, () => appendSessionEvents(env.store, orgId, randomUUID(), 5)))
  ).flat();
  await waitFor(
    async () => (await deliveryCounts(env.sql, endpointId)).delivered === ids.length,
    60_000,
    async () => `delivered ${JSON.stringify(await deliveryCounts(env.sql, endpointId))} of ${ids.length}`,
  );
  expect(overlap).toBe(0);
  expect(r.received).toHaveLength(ids.length);
  expect(second.status().attempts, 'the second engine took a share').toBeGreaterThan(0);
});

it('resends one delivery with the same webhook-id, and recovers every failed one since a time, in order', async () => {
  let failing = true;
  const r = await receiver(() => (failing ? { status: 500 } : { status: 200 }));
  const { orgId, endpointId } = await endpointAt(r);
  const since = new Date();
  const sessionId = randomUUID();
  const ids = await appendSessionEvents(env.store, orgId, sessionId, 3);
  // Even scaled, the 8 attempts take half a minute: skip ahead to the last one.
  await waitFor(
    async () => (await attemptsOf(env.sql, endpointId)).length >= 1,
    20_000,
    () => 'no first attempt',
  );
  await env.sql.query(
    `UPDATE webhook_deliveries SET round_attempts = 7, next_attempt_at = now() WHERE endpoint_id = $1 AND status = 'pending'`,
    [endpointId],
  );
  await waitFor(
    async () => (await deliveryCounts(env.sql, endpointId)).failed === 3,
    30_000,
    async () => `states ${JSON.stringify(await deliveryCounts(env.sql, endpointId))}`,
  );
  failing = false;
  const firstId = deliveryIdOf(endpointId, ids[0]!);
  expect(await resendDelivery(env.sql, { orgId: randomUUID(), deliveryId: firstId, now: new Date() })).toBe(
    'not_found',
  );
  expect(await resendDelivery(env.sql, { orgId, deliveryId: firstId, now: new Date() })).toBe('resent');
  await waitFor(
    async () => (await deliveryCounts(env.sql, endpointId)).delivered === 1,
    20_000,
    () => 'the resend was not delivered',
  );
  const sentBefore = r.received.length;
  const resent = r.received[sentBefore - 1]!;
  expect(resent.headers['webhook-id']).toBe(ids[0]);

  expect(
    await recoverDeliveries(env.sql, { orgId, endpointId, since: new Date(Date.now() + 60_000), now: new Date() }),
  ).toBe(0);
  expect(await recoverDeliveries(env.sql, { orgId, endpointId, since, now: new Date() })).toBe(2);
  await waitFor(
    async () => (await deliveryCounts(env.sql, endpointId)).delivered === 3,
    20_000,
    () => 'the recovered deliveries did not go out',
  );
  const recovered = r.received.slice(sentBefore);
  expect(recovered.map((q) => q.headers['webhook-id'])).toEqual(ids.slice(1));
  for (const q of recovered) envelope(q);
});

it('a second durable replaying the log from the start adds no delivery twice', async () => {
  const r = await receiver();
  const { orgId, endpointId } = await endpointAt(r);
  await appendSessionEvents(env.store, orgId, randomUUID(), 4);
  await waitFor(
    async () => (await deliveryCounts(env.sql, endpointId)).delivered === 4,
    20_000,
    () => 'not delivered',
  );
  const { rows: before } = await env.sql.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_deliveries`);
  const replay = await engine({ durableName: `replay-${randomUUID().slice(0, 8)}`, concurrency: 1 });
  extra.push(replay);
  await replay.start();
  const head = await env.store.headPosition();
  await waitFor(
    async () => {
      const { rows } = await env.sql.query<{ position: string }>(
        `SELECT position FROM webhook_fanout_checkpoints WHERE name LIKE 'replay-%'`,
      );
      return rows.some((row) => BigInt(row.position) >= head);
    },
    30_000,
    () => 'the replay did not reach the head',
  );
  const { rows: after } = await env.sql.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_deliveries`);
  expect(after[0]!.n).toBe(before[0]!.n);
  expect(replay.status().deliveriesAdded).toBe(0);
  expect(r.received).toHaveLength(4);
});

it('pauses and resumes: deliveries wait, then go out in order', async () => {
  const r = await receiver();
  const { orgId, endpointId } = await endpointAt(r);
  await appendEndpointEvent(env.store, orgId, 'endpoint.paused', { endpointId, by: randomUUID() });
  await waitFor(
    async () => (await targetStatus(env.sql, endpointId)) === 'paused',
    20_000,
    () => 'not paused',
  );
  const ids = await appendSessionEvents(env.store, orgId, randomUUID(), 3);
  await waitFor(
    async () => (await deliveryCounts(env.sql, endpointId)).pending === 3,
    20_000,
    () => 'not fanned out',
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(r.received).toEqual([]);
  await appendEndpointEvent(env.store, orgId, 'endpoint.resumed', { endpointId, by: randomUUID() });
  await waitFor(
    () => r.received.length >= 3,
    20_000,
    () => 'not delivered after the resume',
  );
  expect(r.received.map((q) => q.headers['webhook-id'])).toEqual(ids);
});

it('events of an organization without endpoints add nothing yet move the checkpoint; an endpoint made right after gets exactly what follows it', async () => {
  const orgId = randomUUID();
  const sessionId = randomUUID();
  await appendSessionEvents(env.store, orgId, sessionId, 30);
  const quietHead = await env.store.headPosition();
  // Quiet batches take no transaction and write the checkpoint about once a second.
  await waitFor(
    async () => {
      const { rows } = await env.sql.query<{ position: string }>(
        `SELECT position FROM webhook_fanout_checkpoints WHERE name = 'webhooks'`,
      );
      return rows.some((row) => BigInt(row.position) >= quietHead);
    },
    20_000,
    () => 'the checkpoint did not pass the quiet events',
  );
  const count = async () =>
    Number(
      (await env.sql.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_deliveries WHERE org_id = $1`, [orgId]))
        .rows[0]!.n,
    );
  expect(await count()).toBe(0);

  // The organization stops being quiet at its endpoint event, with no pause in between.
  const r = await receiver();
  const { endpointId } = await createEndpoint(env.store, env.sql, orgId, r.url, ['participant.joined']);
  const after = await appendSessionEvents(env.store, orgId, sessionId, 3, 30);
  await waitFor(
    async () => (await deliveryCounts(env.sql, endpointId)).delivered === 3,
    20_000,
    () => `delivered: ${JSON.stringify(r.received.length)}`,
  );
  expect([...applied(r).keys()]).toEqual(after);
  expect(await count()).toBe(3);
});
