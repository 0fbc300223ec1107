/**
 * The delivery log through `createCaller`, over the embedded adapters: deliveries as the
 * delivery engine writes them, read page by page and by status, attempts per delivery, a resend
 * and a recovery, all within one organization (another's ids answer NOT_FOUND or nothing).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { refusal, startCallerHarness, type CallerHarness, type TestUser } from '../testing/caller-harness';

let h: CallerHarness;
let owner: TestUser;
let orgId: string;
const endpointId = randomUUID();
const ids: string[] = [];

/** A delivery row as the engine writes it, with one attempt. */
async function delivery(org: string, endpoint: string, position: number, status: string, createdAt: Date) {
  const id = randomUUID();
  await h.sql.query(
    `INSERT INTO webhook_deliveries (id, endpoint_id, org_id, event_id, event_type, stream_id, position, body, status,
       attempts, round_attempts, next_attempt_at, created_at, failed_at, delivered_at, last_status)
     VALUES ($1, $2, $3, $4, 'member.joined', $5, $6, $7, $8, 1, 1, $9, $9,
       CASE WHEN $8 = 'failed' THEN $9::timestamptz END, CASE WHEN $8 = 'delivered' THEN $9::timestamptz END, 500)`,
    [id, endpoint, org, randomUUID(), `organization-${org}`, position, JSON.stringify({ id: 'e' }), status, createdAt],
  );
  await h.sql.query(
    `INSERT INTO webhook_attempts (delivery_id, n, at, request_headers, status, response_headers, response_body, duration_ms, error_class, error_message)
     VALUES ($1, 1, $2, $3, 500, $4, 'boom', 12.5, 'http', 'answered 500')`,
    [id, createdAt, JSON.stringify({ 'webhook-id': 'e' }), JSON.stringify({ 'content-type': 'text/plain' })],
  );
  return id;
}

beforeAll(async () => {
  h = await startCallerHarness();
  owner = await h.signUp('owner');
  let position: string;
  ({ orgId, position } = await h.createOrg(owner, 'pro'));
  await h.caller({ token: owner.token }).webhookDeliveries.list({ orgId, endpointId, minPosition: position });
  for (let n = 1; n <= 5; n++)
    ids.push(
      await delivery(orgId, endpointId, n, n % 2 === 0 ? 'failed' : 'delivered', new Date(Date.UTC(2026, 0, n))),
    );
}, 60_000);

afterAll(async () => {
  await h?.close();
});

it('lists an endpoint’s deliveries newest first, page by page, and by status', async () => {
  const caller = h.caller({ token: owner.token });
  const first = await caller.webhookDeliveries.list({ orgId, endpointId, limit: 2 });
  expect(first.items.map((d) => d.position)).toEqual(['5', '4']);
  expect(first.nextCursor).toBe('4');
  const second = await caller.webhookDeliveries.list({ orgId, endpointId, limit: 2, cursor: first.nextCursor! });
  expect(second.items.map((d) => d.position)).toEqual(['3', '2']);
  const last = await caller.webhookDeliveries.list({ orgId, endpointId, limit: 2, cursor: second.nextCursor! });
  expect(last.items.map((d) => d.position)).toEqual(['1']);
  expect(last.nextCursor).toBeNull();
  const failed = await caller.webhookDeliveries.list({ orgId, endpointId, status: 'failed' });
  expect(failed.items.map((d) => d.deliveryId)).toEqual([ids[3], ids[1]]);
  expect(failed.items[0]).toMatchObject({ status: 'failed', attempts: 1, lastStatus: 500, nextAttemptAt: null });
});

it('shows a delivery’s attempts with its payload', async () => {
  const { delivery: d, attempts } = await h
    .caller({ token: owner.token })
    .webhookDeliveries.attempts({ orgId, deliveryId: ids[0]! });
  expect(d).toMatchObject({ deliveryId: ids[0], payload: { id: 'e' } });
  expect(attempts).toEqual([
    {
      n: 1,
      at: '2026-01-01T00:00:00.000Z',
      requestHeaders: { 'webhook-id': 'e' },
      status: 500,
      responseHeaders: { 'content-type': 'text/plain' },
      responseBody: 'boom',
      durationMs: 12.5,
      errorClass: 'http',
      errorMessage: 'answered 500',
    },
  ]);
});

it('resends one delivery, refuses one in flight, and recovers the failed ones since a time', async () => {
  const caller = h.caller({ token: owner.token });
  expect(await caller.webhookDeliveries.resend({ orgId, deliveryId: ids[0]! })).toEqual({
    deliveryId: ids[0],
    status: 'pending',
  });
  await h.sql.query(`UPDATE webhook_deliveries SET claimed_until = now() + interval '1 minute' WHERE id = $1`, [
    ids[2],
  ]);
  expect(await refusal(caller.webhookDeliveries.resend({ orgId, deliveryId: ids[2]! }))).toMatchObject({
    code: 'CONFLICT',
    reason: 'webhooks.delivery_in_flight',
  });
  // Failed: positions 2 (1 Jan + 1 day) and 4; since 3 Jan takes the second only.
  expect(await caller.webhookDeliveries.recover({ orgId, endpointId, since: '2026-01-03T00:00:00.000Z' })).toEqual({
    recovered: 1,
  });
  const pending = await caller.webhookDeliveries.list({ orgId, endpointId, status: 'pending' });
  expect(pending.items.map((d) => d.deliveryId)).toEqual([ids[3], ids[0]]);
});

it('keeps each organization’s deliveries to itself', async () => {
  const other = await h.signUp('other');
  const { orgId: otherOrg, position } = await h.createOrg(other, 'pro');
  const caller = h.caller({ token: other.token });
  expect((await caller.webhookDeliveries.list({ orgId: otherOrg, endpointId, minPosition: position })).items).toEqual(
    [],
  );
  expect(await refusal(caller.webhookDeliveries.attempts({ orgId: otherOrg, deliveryId: ids[1]! }))).toMatchObject({
    code: 'NOT_FOUND',
    reason: 'webhooks.delivery_not_found',
  });
  expect(await refusal(caller.webhookDeliveries.resend({ orgId: otherOrg, deliveryId: ids[1]! }))).toMatchObject({
    code: 'NOT_FOUND',
  });
  expect(await refusal(caller.webhookDeliveries.list({ orgId, endpointId }))).toMatchObject({ code: 'NOT_FOUND' });
  expect(
    await caller.webhookDeliveries.recover({ orgId: otherOrg, endpointId, since: '2025-01-01T00:00:00.000Z' }),
  ).toEqual({ recovered: 0 });
});
