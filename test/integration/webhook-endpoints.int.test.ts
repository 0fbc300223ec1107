/**
 * Webhook endpoints over tRPC on a whole Quorum (http and loopback allowed, as in development):
 * their lifecycle, roles and tenancy, refusals that append nothing, Idempotency-Key, secrets
 * that never enter the log, and a test ping verified with the `standardwebhooks` library.
 */
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../support/http-client';
import { addMember, createOrg, signUp, type TestUser } from '../support/people';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

let q: TestQuorum;
let receiver: WebhookReceiver;
let owner: TestUser;
let orgId: string;

beforeAll(async () => {
  q = await startTestQuorum('webhook_endpoints');
  receiver = await startWebhookReceiver();
  owner = await signUp(q.http, 'owner');
  ({ orgId } = await createOrg(q.http, owner));
}, 60_000);

afterAll(async () => {
  await receiver?.close();
  await q?.stop();
});

const as = (user: TestUser) => ({ token: user.token });

async function create(input: Record<string, unknown> = {}, options: { idempotencyKey?: string } = {}) {
  return q.http.mutation(
    'webhooks.create',
    { orgId, url: `${receiver.url}/hooks/${randomUUID().slice(0, 8)}`, eventTypes: ['member.joined'], ...input },
    { ...as(owner), ...options },
  );
}

/** Every event type of the organization's log, with its data, once `minPosition` is projected. */
async function logged(minPosition: string) {
  const r = await q.http.query('events.list', { orgId, minPosition, limit: 500 }, as(owner));
  return r.events as Array<{ type: string; data: unknown }>;
}

describe('an endpoint’s life', () => {
  it('is created with its secret shown once, listed, changed, paused, resumed, rotated and deleted', async () => {
    const created = await create({ description: 'CRM sync', eventTypes: ['member.joined', 'seat.assigned'] });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.endpoint).toMatchObject({ status: 'enabled', description: 'CRM sync' });
    const endpointId = created.endpoint.id as string;

    const listed = await q.http.query('webhooks.list', { orgId, minPosition: created.position }, as(owner));
    expect(listed).toContainEqual(
      expect.objectContaining({
        id: endpointId,
        url: created.endpoint.url,
        eventTypes: ['member.joined', 'seat.assigned'],
        status: 'enabled',
        disabledReason: null,
        secretRotatedAt: null,
      }),
    );

    const url = `${receiver.url}/hooks/changed`;
    const updated = await q.http.mutation('webhooks.update', { orgId, endpointId, url, eventTypes: [] }, as(owner));
    expect(
      await q.http.query('webhooks.get', { orgId, endpointId, minPosition: updated.position }, as(owner)),
    ).toMatchObject({ url, description: 'CRM sync', eventTypes: [], status: 'enabled' });

    const paused = await q.http.mutation('webhooks.pause', { orgId, endpointId }, as(owner));
    expect(
      await q.http.query('webhooks.get', { orgId, endpointId, minPosition: paused.position }, as(owner)),
    ).toMatchObject({ status: 'paused' });
    expect(await failure(q.http.mutation('webhooks.pause', { orgId, endpointId }, as(owner)))).toMatchObject({
      code: 'CONFLICT',
      reason: 'webhooks.already_paused',
    });
    const resumed = await q.http.mutation('webhooks.resume', { orgId, endpointId }, as(owner));
    expect(
      await q.http.query('webhooks.get', { orgId, endpointId, minPosition: resumed.position }, as(owner)),
    ).toMatchObject({ status: 'enabled' });
    expect(await failure(q.http.mutation('webhooks.resume', { orgId, endpointId }, as(owner)))).toMatchObject({
      code: 'CONFLICT',
      reason: 'webhooks.not_paused',
    });

    const before = Date.now();
    const rotated = await q.http.mutation(
      'webhooks.rotateSecret',
      { orgId, endpointId, overlapSeconds: 3_600 },
      as(owner),
    );
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    const until = Date.parse(rotated.previousValidUntil);
    expect(until).toBeGreaterThanOrEqual(before + 3_600_000 - 1_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 3_600_000);
    expect(await q.http.mutation('webhooks.revealSecret', { orgId, endpointId }, as(owner))).toMatchObject({
      secret: rotated.secret,
    });
    const afterRotation = await q.http.query(
      'webhooks.get',
      { orgId, endpointId, minPosition: rotated.position },
      as(owner),
    );
    expect(afterRotation.secretRotatedAt).not.toBeNull();

    const deleted = await q.http.mutation('webhooks.delete', { orgId, endpointId }, as(owner));
    expect(
      await q.http.query('webhooks.get', { orgId, endpointId, minPosition: deleted.position }, as(owner)),
    ).toMatchObject({ status: 'deleted' });
    const live = await q.http.query('webhooks.list', { orgId, minPosition: deleted.position }, as(owner));
    expect(live.map((e: { id: string }) => e.id)).not.toContain(endpointId);
    for (const path of ['webhooks.pause', 'webhooks.revealSecret', 'webhooks.ping', 'webhooks.delete'])
      expect(await failure(q.http.mutation(path, { orgId, endpointId }, as(owner))), path).toMatchObject({
        code: 'NOT_FOUND',
        reason: 'webhooks.endpoint_deleted',
      });

    // The log says what happened, never with a secret.
    const events = (await logged(deleted.position)).filter((e) => e.type.startsWith('endpoint.'));
    expect(events.map((e) => e.type)).toEqual([
      'endpoint.created',
      'endpoint.updated',
      'endpoint.paused',
      'endpoint.resumed',
      'endpoint.secret_rotated',
      'endpoint.deleted',
    ]);
    const text = JSON.stringify(events);
    expect(text).not.toContain(created.secret.slice(6));
    expect(text).not.toContain(rotated.secret.slice(6));
    expect(text).not.toContain('whsec_');
  });

  it('a test ping is signed with every valid secret and verified by standardwebhooks', async () => {
    const created = await create();
    const endpointId = created.endpoint.id as string;
    receiver.answerWith(202, 'got it');
    const first = await q.http.mutation('webhooks.ping', { orgId, endpointId }, as(owner));
    expect(first).toMatchObject({ ok: true, status: 202, body: 'got it', truncated: false, error: null });
    expect(first.durationMs).toBeGreaterThanOrEqual(0);
    const ping = receiver.received.at(-1)!;
    expect(ping.path).toBe(new URL(created.endpoint.url).pathname);
    expect(ping.headers['webhook-id']).toBe(first.webhookId);
    const payload = new Webhook(created.secret).verify(ping.body, ping.headers as Record<string, string>);
    expect(payload).toMatchObject({
      type: 'webhook.ping',
      source: `/orgs/${orgId}`,
      data: { endpointId },
    });

    // During the overlap both secrets sign: a receiver holding either verifies.
    const rotated = await q.http.mutation(
      'webhooks.rotateSecret',
      { orgId, endpointId, overlapSeconds: 600 },
      as(owner),
    );
    receiver.answerWith(500, 'down for maintenance');
    const second = await q.http.mutation('webhooks.ping', { orgId, endpointId }, as(owner));
    expect(second).toMatchObject({ ok: false, status: 500, body: 'down for maintenance' });
    const again = receiver.received.at(-1)!;
    expect(String(again.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [created.secret, rotated.secret])
      expect(new Webhook(secret).verify(again.body, again.headers as Record<string, string>)).toMatchObject({
        type: 'webhook.ping',
      });

    // With no overlap the previous secret stops at once.
    const cut = await q.http.mutation('webhooks.rotateSecret', { orgId, endpointId, overlapSeconds: 0 }, as(owner));
    expect(cut.previousValidUntil).toBeNull();
    receiver.answerWith(200, 'ok');
    await q.http.mutation('webhooks.ping', { orgId, endpointId }, as(owner));
    const last = receiver.received.at(-1)!;
    expect(String(last.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(new Webhook(cut.secret).verify(last.body, last.headers as Record<string, string>)).toBeTruthy();
    expect(() => new Webhook(rotated.secret).verify(last.body, last.headers as Record<string, string>)).toThrow();
  });

  it('a ping nobody answers is an answer, not an error', async () => {
    const created = await create({ url: 'http://127.0.0.1:9/nobody' });
    const answer = await q.http.mutation('webhooks.ping', { orgId, endpointId: created.endpoint.id }, as(owner));
    expect(answer).toMatchObject({ ok: false, status: null, error: 'connection' });
    expect(answer.message).toMatch(/ECONNREFUSED/);
  });
});

describe('refusals', () => {
  it('event types that are not public: BAD_REQUEST listing them, nothing appended', async () => {
    const head = await settledHead(q);
    const f = await failure(create({ eventTypes: ['member.joined', 'billing.sync_failed', 'no.such_type'] }));
    expect(f).toMatchObject({ status: 400, code: 'BAD_REQUEST', reason: 'webhooks.unknown_event_types' });
    expect(f.message).toContain('billing.sync_failed, no.such_type');
    expect(await settledHead(q)).toBe(head);
    const rows = await q.app.sql.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM webhook_secrets s WHERE s.org_id = $1
          AND NOT EXISTS (SELECT 1 FROM es_events e WHERE e.type = 'endpoint.created' AND e.data->>'endpointId' = s.endpoint_id::text)`,
      [orgId],
    );
    expect(rows.rows[0]!.n, 'no secret is left behind for a refused endpoint').toBe('0');
  });

  it('malformed input: BAD_REQUEST naming the field, nothing appended', async () => {
    const head = await settledHead(q);
    const f = await failure(create({ url: 'ftp://files.example.com/in' }));
    expect(f).toMatchObject({ code: 'BAD_REQUEST' });
    expect(f.fieldErrors?.map((e) => e.path)).toEqual(['url']);
    const g = await failure(
      q.http.mutation(
        'webhooks.rotateSecret',
        { orgId, endpointId: randomUUID(), overlapSeconds: 8 * 86_400 },
        as(owner),
      ),
    );
    expect(g.fieldErrors?.map((e) => e.path)).toEqual(['overlapSeconds']);
    expect(await settledHead(q)).toBe(head);
  });

  it('an unknown endpoint: NOT_FOUND', async () => {
    expect(
      await failure(q.http.mutation('webhooks.pause', { orgId, endpointId: randomUUID() }, as(owner))),
    ).toMatchObject({ code: 'NOT_FOUND', reason: 'webhooks.endpoint_not_found' });
  });
});

describe('roles and tenancy', () => {
  it('another organization’s endpoint is NOT_FOUND, through either organization', async () => {
    const created = await create();
    const stranger = await signUp(q.http, 'stranger');
    const theirs = await createOrg(q.http, stranger);
    const endpointId = created.endpoint.id as string;
    for (const path of ['webhooks.pause', 'webhooks.revealSecret', 'webhooks.ping', 'webhooks.delete'])
      expect(
        await failure(q.http.mutation(path, { orgId: theirs.orgId, endpointId }, as(stranger))),
        path,
      ).toMatchObject({ code: 'NOT_FOUND' });
    expect(
      await failure(
        q.http.query('webhooks.get', { orgId: theirs.orgId, endpointId, minPosition: created.position }, as(stranger)),
      ),
    ).toMatchObject({ code: 'NOT_FOUND', reason: 'webhooks.endpoint_not_found' });
    expect(await failure(q.http.mutation('webhooks.pause', { orgId, endpointId }, as(stranger)))).toMatchObject({
      code: 'NOT_FOUND',
      reason: 'organization.not_found',
    });
    const theirList = await q.http.query('webhooks.list', { orgId: theirs.orgId }, as(stranger));
    expect(theirList).toEqual([]);
  });

  it('a member may neither read nor manage endpoints (FORBIDDEN); an admin may', async () => {
    const member = await addMember(q.http, orgId, owner, 'member');
    const admin = await addMember(q.http, orgId, owner, 'admin');
    const head = await settledHead(q);
    for (const call of [
      q.http.query('webhooks.list', { orgId }, as(member)),
      q.http.mutation('webhooks.create', { orgId, url: `${receiver.url}/m` }, as(member)),
    ])
      expect(await failure(call)).toMatchObject({ status: 403, code: 'FORBIDDEN', reason: 'auth.forbidden' });
    expect(await settledHead(q)).toBe(head);
    const made = await q.http.mutation('webhooks.create', { orgId, url: `${receiver.url}/admin` }, as(admin));
    expect(made.secret).toMatch(/^whsec_/);
  });
});

describe('Idempotency-Key', () => {
  it('a retried create answers the same endpoint and secret and appends once', async () => {
    const idempotencyKey = `idem-${randomUUID()}`;
    const input = { url: `${receiver.url}/once` };
    const first = await create(input, { idempotencyKey });
    const head = await settledHead(q);
    const second = await create(input, { idempotencyKey });
    expect(second).toEqual(first);
    expect(await settledHead(q)).toBe(head);
    const endpoints = await q.http.query('webhooks.list', { orgId, minPosition: first.position }, as(owner));
    expect(endpoints.filter((e: { id: string }) => e.id === first.endpoint.id)).toHaveLength(1);
  });

  it('the same key in another organization creates that organization’s own endpoint', async () => {
    const idempotencyKey = `idem-${randomUUID()}`;
    const other = await createOrg(q.http, owner);
    const here = await create({}, { idempotencyKey });
    const there = await q.http.mutation(
      'webhooks.create',
      { orgId: other.orgId, url: `${receiver.url}/there` },
      { ...as(owner), idempotencyKey },
    );
    expect(there.endpoint.id).not.toBe(here.endpoint.id);
    expect(there.secret).not.toBe(here.secret);
    const listed = await q.http.query('webhooks.list', { orgId: other.orgId, minPosition: there.position }, as(owner));
    expect(listed.map((e: { id: string }) => e.id)).toEqual([there.endpoint.id]);
  });

  it('a retried rotation answers the same secret and rotates once', async () => {
    const { endpoint } = await create();
    const idempotencyKey = `idem-${randomUUID()}`;
    const input = { orgId, endpointId: endpoint.id, overlapSeconds: 60 };
    const first = await q.http.mutation('webhooks.rotateSecret', input, { ...as(owner), idempotencyKey });
    const second = await q.http.mutation('webhooks.rotateSecret', input, { ...as(owner), idempotencyKey });
    expect(second).toEqual(first);
    const rows = await q.app.sql.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM webhook_secrets WHERE endpoint_id = $1',
      [endpoint.id],
    );
    expect(rows.rows[0]!.n).toBe('2');
  });
});
