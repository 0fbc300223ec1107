/**
 * REST `/v1` over real HTTP: the gateway's own procedures with its guarantees (credentials,
 * roles, tenant isolation, Idempotency-Key, errors as tRPC gives them), the public event log
 * paged by cursor with only public types in it, and per-credential rate limits in Redis.
 */
import { randomUUID } from 'node:crypto';
import { PUBLIC_EVENT_TYPES, streamIds, type Role } from '@quorum/domain';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../support/http-client';
import { createOrg, signUp, type TestUser } from '../support/people';
import { expectPublicEvent, publicContractValidator, type PublicContractValidator } from '../support/public-contract';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';
import { v1Client } from '../support/v1';

let q: TestQuorum;
let v1: ReturnType<typeof v1Client>;
let contract: PublicContractValidator;
let owner: TestUser;
let orgId: string;
let adminKey: string;

async function apiKey(org: string, role: Exclude<Role, 'owner'>, by: TestUser = owner): Promise<string> {
  const created = await q.http.mutation(
    'apiKeys.create',
    { orgId: org, name: `${role} key`, role },
    { token: by.token },
  );
  // The key is usable once its creation is projected.
  await q.http.query('apiKeys.list', { orgId: org, minPosition: created.position }, { token: by.token });
  return created.secret as string;
}

type Envelope = { id: string; type: string; sequence: string; data: Record<string, unknown> };

/** Every public event of `org` by paging `/v1` with `limit`; checks each envelope against the contract. */
async function pageAll(
  org: string,
  key: string,
  limit: number,
  extra = '',
): Promise<{ events: Envelope[]; pages: number }> {
  const events: Envelope[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const res = await v1('GET', `/orgs/${org}/events?limit=${limit}${after ? `&after=${after}` : ''}${extra}`, {
      apiKey: key,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    pages++;
    const page = res.body as { data: Envelope[]; next: string | null };
    expect(page.data.length).toBeLessThanOrEqual(limit);
    for (const e of page.data) expectPublicEvent(contract, e);
    events.push(...page.data);
    if (page.next === null) return { events, pages };
    expect(page.next).toBe(page.data.at(-1)!.sequence);
    after = page.next;
  }
}

beforeAll(async () => {
  q = await startTestQuorum('v1rest');
  v1 = v1Client(q.baseUrl);
  contract = publicContractValidator(q.baseUrl);
  owner = await signUp(q.http, 'v1-owner');
  ({ orgId } = await createOrg(q.http, owner, 'pro'));
  adminKey = await apiKey(orgId, 'admin');
});

afterAll(async () => {
  await q?.stop();
});

describe('credentials, roles and tenants', () => {
  it('answers the same organization to an API key (x-api-key) and to a Bearer access token', async () => {
    const byKey = await v1('GET', `/orgs/${orgId}`, { apiKey: adminKey });
    const byToken = await v1('GET', `/orgs/${orgId}`, { token: owner.token });
    expect(byKey.status).toBe(200);
    expect(byToken.status).toBe(200);
    expect(byKey.body).toMatchObject({ orgId, plan: 'pro', yourRole: 'admin' });
    expect(byToken.body).toMatchObject({ orgId, plan: 'pro', yourRole: 'owner' });
    expect(byKey.headers.get('x-request-id')).toBeTruthy();
  });

  it('refuses a call without a credential, or with a wrong one, as 401', async () => {
    for (const credentials of [{}, { apiKey: `qk_${'x'.repeat(40)}` }, { token: 'not-a-token' }]) {
      const res = await v1('GET', `/orgs/${orgId}/events`, credentials);
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ code: 'UNAUTHORIZED' });
    }
  });

  it("answers another organization's events and organization as 404, as tRPC does", async () => {
    const stranger = await signUp(q.http, 'v1-stranger');
    const other = await createOrg(q.http, stranger, 'pro');
    const viaTrpc = await failure(q.http.query('events.list', { orgId: other.orgId }, { apiKey: adminKey }));
    for (const path of [`/orgs/${other.orgId}/events`, `/orgs/${other.orgId}`]) {
      const res = await v1('GET', path, { apiKey: adminKey });
      expect(res.status).toBe(viaTrpc.status);
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: 'NOT_FOUND', reason: viaTrpc.reason });
    }
  });

  it('refuses the events to a role without events.list (403), and lets it read the organization', async () => {
    const memberKey = await apiKey(orgId, 'member');
    const viaTrpc = await failure(q.http.query('events.list', { orgId }, { apiKey: memberKey }));
    const res = await v1('GET', `/orgs/${orgId}/events`, { apiKey: memberKey });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'FORBIDDEN', reason: viaTrpc.reason });
    expect((await v1('GET', `/orgs/${orgId}`, { apiKey: memberKey })).status).toBe(200);
    const invite = await v1('POST', `/orgs/${orgId}/invitations`, {
      apiKey: memberKey,
      body: { email: `${randomUUID()}@example.com`, role: 'member' },
    });
    expect(invite.status).toBe(403);
  });
});

describe('a command route', () => {
  it('invites once for one Idempotency-Key, however often it is retried', async () => {
    const key = `invite-${randomUUID()}`;
    const email = `idem-${randomUUID().slice(0, 8)}@example.com`;
    const send = () =>
      v1('POST', `/orgs/${orgId}/invitations`, {
        apiKey: adminKey,
        body: { email, role: 'member' },
        headers: { 'idempotency-key': key },
      });
    const first = await send();
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const second = await send();
    expect(second.status).toBe(201);
    expect(second.body.invitationId).toBe(first.body.invitationId);
    await q.http.query('members.list', { orgId, minPosition: second.body.position }, { token: owner.token });
    const { events } = await pageAll(orgId, adminKey, 500, `&types=member.invited`);
    expect(events.filter((e) => e.data.email === email)).toHaveLength(1);
    const other = await v1('POST', `/orgs/${orgId}/invitations`, {
      apiKey: adminKey,
      body: { email: `other-${randomUUID().slice(0, 8)}@example.com`, role: 'member' },
      headers: { 'idempotency-key': `invite-${randomUUID()}` },
    });
    expect(other.body.invitationId).not.toBe(first.body.invitationId);
  });

  it('answers bad bodies with 400 and the field, before anything runs', async () => {
    const bad = await v1('POST', `/orgs/${orgId}/invitations`, {
      apiKey: adminKey,
      body: { email: 'not-an-email', role: 'member' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'BAD_REQUEST', reason: 'input.invalid' });
    expect(bad.body.error.fieldErrors.map((f: { path: string }) => f.path)).toContain('email');
    const malformed = await v1('POST', `/orgs/${orgId}/invitations`, { apiKey: adminKey, rawBody: '{"email":' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.reason).toBe('input.malformed_json');
    const array = await v1('POST', `/orgs/${orgId}/invitations`, { apiKey: adminKey, body: [1] });
    expect(array.status).toBe(400);
    const huge = await v1('POST', `/orgs/${orgId}/invitations`, {
      apiKey: adminKey,
      rawBody: JSON.stringify({ email: 'a@example.com', role: 'member', pad: 'x'.repeat(1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.reason).toBe('v1.body_too_large');
  });
});

describe('routing', () => {
  it('answers an unknown route 404 and a wrong method 405 with Allow', async () => {
    const unknown = await v1('GET', `/orgs/${orgId}/nothing`, { apiKey: adminKey });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'NOT_FOUND', reason: 'v1.not_found' });
    const wrong = await v1('DELETE', `/orgs/${orgId}/events`, { apiKey: adminKey });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    const bad = await v1('GET', `/orgs/not-a-uuid/events`, { apiKey: adminKey });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fieldErrors[0].path).toBe('path.orgId');
  });
});

describe('GET /v1/orgs/{orgId}/events', () => {
  let org: string;
  let key: string;
  let internalPositions: string[];

  beforeAll(async () => {
    const boss = await signUp(q.http, 'v1-pager');
    ({ orgId: org } = await createOrg(q.http, boss, 'pro'));
    key = await apiKey(org, 'admin', boss);
    for (let i = 0; i < 12; i++) {
      const res = await v1('POST', `/orgs/${org}/invitations`, {
        apiKey: key,
        body: { email: `pager-${i}-${randomUUID().slice(0, 6)}@example.com`, role: i % 2 ? 'member' : 'host' },
      });
      expect(res.status).toBe(201);
    }
    // A run of internal events (the Stripe sync's bookkeeping) longer than a page: they never
    // appear, and they never end the paging early.
    const at = new Date().toISOString();
    const appended = await q.app.store.appendToStream(
      streamIds.billing(org),
      Array.from({ length: 30 }, (_, i) => ({
        id: randomUUID(),
        type: 'billing.customer_linked',
        version: 1,
        data: { customerId: `cus_test${i}`, cause: { eventId: randomUUID(), type: 'organization.created' }, at },
        metadata: {
          orgId: org,
          actor: { kind: 'system' as const, id: 'test' },
          correlationId: randomUUID(),
          causationId: null,
        },
      })),
    );
    internalPositions = [appended.position.toString()];
    for (let i = 0; i < 3; i++) {
      const res = await v1('POST', `/orgs/${org}/invitations`, {
        apiKey: key,
        body: { email: `after-${i}-${randomUUID().slice(0, 6)}@example.com`, role: 'member' },
      });
      expect(res.status).toBe(201);
    }
    // Until the last invitation is projected.
    const last = await q.http.mutation(
      'members.invite',
      { orgId: org, email: `last-${randomUUID().slice(0, 6)}@example.com`, role: 'member' },
      { apiKey: key },
    );
    await q.http.query('members.list', { orgId: org, minPosition: last.position }, { token: boss.token });
  });

  it('pages every public event in order by cursor, with no gap and no repeat, whatever the page size', async () => {
    const whole = await pageAll(org, key, 500);
    expect(whole.pages).toBe(1);
    const types = new Set(whole.events.map((e) => e.type));
    expect([...types].every((t) => t.startsWith('quorum.'))).toBe(true);
    expect(whole.events.some((e) => e.type.includes('billing.customer_linked'))).toBe(false);
    expect(whole.events.filter((e) => e.type === 'quorum.member.invited.v1')).toHaveLength(16);
    const sequences = whole.events.map((e) => BigInt(e.sequence));
    expect([...sequences].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(sequences);
    for (const limit of [1, 4, 7]) {
      const paged = await pageAll(org, key, limit);
      expect(paged.events.map((e) => e.id)).toEqual(whole.events.map((e) => e.id));
      expect(paged.pages).toBeGreaterThanOrEqual(Math.ceil(whole.events.length / limit));
    }
    // A cursor inside the internal run resumes with the next public event.
    const inside = await v1('GET', `/orgs/${org}/events?after=${internalPositions[0]}&limit=500`, { apiKey: key });
    expect(inside.body.data.map((e: Envelope) => e.id)).toEqual(
      whole.events.filter((e) => BigInt(e.sequence) > BigInt(internalPositions[0]!)).map((e) => e.id),
    );
    expect(inside.body.data).toHaveLength(4);
  });

  it('filters by public type names, and by CloudEvents types', async () => {
    const joined = await pageAll(org, key, 500, '&types=member.joined');
    expect(joined.events.map((e) => e.type)).toEqual(['quorum.member.joined.v1']);
    const both = await pageAll(org, key, 3, '&types=quorum.member.joined.v1,organization.created');
    expect(new Set(both.events.map((e) => e.type))).toEqual(
      new Set(['quorum.member.joined.v1', 'quorum.organization.created.v1']),
    );
  });

  it('refuses unknown and internal type names with a 400 listing them', async () => {
    const res = await v1('GET', `/orgs/${org}/events?types=member.joined,billing.customer_linked,nope.nothing`, {
      apiKey: key,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'BAD_REQUEST', reason: 'events.unknown_types' });
    expect(res.body.error.message).toContain('billing.customer_linked');
    expect(res.body.error.message).toContain('nope.nothing');
    expect(res.body.error.message).not.toContain('member.joined,');
    expect(PUBLIC_EVENT_TYPES).not.toContain('billing.customer_linked');
  });

  it('refuses limits out of bounds and malformed cursors with a 400 naming the field', async () => {
    for (const [query, field] of [
      ['limit=0', 'query.limit'],
      ['limit=501', 'query.limit'],
      ['limit=ten', 'query.limit'],
      ['after=abc', 'query.after'],
      ['after=-1', 'query.after'],
      ['after=99999999999999999999', 'query.after'],
      ['sort=desc', 'query'],
    ] as const) {
      const res = await v1('GET', `/orgs/${org}/events?${query}`, { apiKey: key });
      expect(res.status, query).toBe(400);
      expect(res.body.error.reason, query).toBe('input.invalid');
      expect(res.body.error.fieldErrors[0].path, query).toBe(field);
    }
    const repeated = await v1('GET', `/orgs/${org}/events?limit=1&limit=2`, { apiKey: key });
    expect(repeated.status).toBe(400);
  });
});

describe('rate limits per credential, shared in Redis', () => {
  let limited: TestQuorum;
  const namespace = `t${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    limited = await startTestQuorum('v1rate', {
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_NAMESPACE: namespace,
      V1_RATE_LIMIT_PER_MINUTE: '5',
    });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it('answers the 6th call in a minute with 429, Retry-After and RateLimit headers; other credentials are untouched', async () => {
    const call = v1Client(limited.baseUrl);
    const boss = await signUp(limited.http, 'v1-rate');
    const { orgId: org } = await createOrg(limited.http, boss, 'pro');
    const created = await limited.http.mutation('apiKeys.create', { orgId: org, name: 'ci' }, { token: boss.token });
    await limited.http.query('apiKeys.list', { orgId: org, minPosition: created.position }, { token: boss.token });
    const key = created.secret as string;
    for (let i = 0; i < 5; i++) {
      const res = await call('GET', `/orgs/${org}`, { apiKey: key });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('5');
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(4 - i));
    }
    const refused = await call('GET', `/orgs/${org}/events`, { apiKey: key });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'TOO_MANY_REQUESTS', reason: 'v1.rate_limited' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('x-ratelimit-reset')).toBe(String(retryAfter));
    // The user's own calls count apart from the key's.
    expect((await call('GET', `/orgs/${org}`, { token: boss.token })).status).toBe(200);
    // Counted in Redis, under this deployment's namespace, so every gateway shares it.
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      const keys = await redis.keys(`ratelimit:${namespace}.v1:*`);
      expect(keys.some((k) => k.startsWith(`ratelimit:${namespace}.v1:key:`))).toBe(true);
      expect(keys.some((k) => k.startsWith(`ratelimit:${namespace}.v1:user:`))).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});
