/**
 * Bad input at the edge: every procedure answers malformed input with 400 BAD_REQUEST naming
 * the fields, and nothing is appended or projected. Oversized bodies, broken JSON and a
 * malformed Idempotency-Key are refused the same way.
 */
import { randomUUID } from 'node:crypto';
import { appRouter } from '@quorum/gateway/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, type CallOptions } from '../support/http-client';
import { serviceToken } from '../support/meetings';
import { addMember, createOrg, signUp, UNKNOWN_INVITATION_TOKEN, type TestUser } from '../support/people';
import { openSubscription } from '../support/subscription-client';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;
let owner: TestUser;
let orgId: string;
let memberId: string;

interface BadCase {
  input: unknown;
  /** Field paths the error must name. */
  fields: string[];
}

// At run time `_def.procedures` is flat, keyed by dotted path; its static type is nested.
const procedureTypes = Object.fromEntries(
  Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>).map(
    ([path, p]) => [path, p._def.type],
  ),
);
const QUERIES = new Set([
  'auth.me',
  'org.get',
  'org.list',
  'members.list',
  'seats.get',
  'apiKeys.list',
  'events.list',
  'meetings.get',
  'meetings.list',
]);
const long = (n: number) => 'x'.repeat(n);
const uuid = () => randomUUID();

/** Malformed inputs per procedure; the org and user ids are filled in once they exist. */
function badInputs(): Record<string, BadCase[]> {
  const quantities: BadCase[] = [
    { input: { orgId, quantity: 0 }, fields: ['quantity'] },
    { input: { orgId, quantity: -1 }, fields: ['quantity'] },
    { input: { orgId, quantity: 1.5 }, fields: ['quantity'] },
    { input: { orgId, quantity: 10_001 }, fields: ['quantity'] },
    { input: { orgId, quantity: '2' }, fields: ['quantity'] },
    { input: { orgId }, fields: ['quantity'] },
    { input: { orgId: 'not-a-uuid', quantity: 1 }, fields: ['orgId'] },
  ];
  const badMinPosition: BadCase[] = [
    { input: { orgId, minPosition: 'abc' }, fields: ['minPosition'] },
    { input: { orgId, minPosition: '-1' }, fields: ['minPosition'] },
    { input: { orgId, minPosition: 5 }, fields: ['minPosition'] },
    { input: { orgId, minPosition: '1'.repeat(20) }, fields: ['minPosition'] },
    { input: { orgId: 'nope' }, fields: ['orgId'] },
    { input: {}, fields: ['orgId'] },
  ];
  return {
    'auth.signUp': [
      { input: {}, fields: ['email', 'password', 'name'] },
      { input: { email: 'not-an-email', password: 'long enough password', name: 'A' }, fields: ['email'] },
      { input: { email: 42, password: 'long enough password', name: 'A' }, fields: ['email'] },
      { input: { email: `a-${uuid()}@example.com`, password: 'short', name: 'A' }, fields: ['password'] },
      {
        input: { email: `a-${uuid()}@example.com`, password: 'long enough password', name: long(101) },
        fields: ['name'],
      },
    ],
    'auth.login': [
      { input: { email: 'nobody' }, fields: ['email', 'password'] },
      { input: { email: owner.email, password: 12345 }, fields: ['password'] },
    ],
    'auth.refresh': [
      { input: { refreshToken: 5 }, fields: ['refreshToken'] },
      { input: { refreshToken: '' }, fields: ['refreshToken'] },
    ],
    'auth.logout': [{ input: { refreshToken: ['a'] }, fields: ['refreshToken'] }],
    'auth.me': [{ input: 'me', fields: ['(input)'] }],
    'auth.verifyEmail': [
      { input: {}, fields: ['token'] },
      { input: { token: 'qev_short' }, fields: ['token'] },
      { input: { token: `qinv_${'A'.repeat(43)}` }, fields: ['token'] },
    ],
    'auth.resendVerification': [{ input: 'again', fields: ['(input)'] }],
    'org.create': [
      { input: {}, fields: ['name'] },
      { input: { name: long(101), plan: 'pro' }, fields: ['name'] },
      { input: { name: '   ', plan: 'pro' }, fields: ['name'] },
      { input: { name: 'Acme', plan: 'platinum' }, fields: ['plan'] },
      { input: { name: 7 }, fields: ['name'] },
    ],
    'org.get': badMinPosition,
    'org.list': [{ input: { minPosition: 'latest' }, fields: ['minPosition'] }],
    'org.changePlan': [
      { input: { orgId, plan: 'gold' }, fields: ['plan'] },
      { input: { orgId: 'x', plan: 'business' }, fields: ['orgId'] },
      { input: { orgId }, fields: ['plan'] },
    ],
    'members.invite': [
      { input: { orgId, email: 'not-an-email', role: 'member' }, fields: ['email'] },
      { input: { orgId, email: `i-${uuid()}@example.com`, role: 'superuser' }, fields: ['role'] },
      { input: { email: `i-${uuid()}@example.com`, role: 'member' }, fields: ['orgId'] },
      { input: { orgId, email: `${long(250)}@example.com`, role: 'member' }, fields: ['email'] },
    ],
    'members.accept': [
      { input: { orgId, invitationId: 'abc', token: UNKNOWN_INVITATION_TOKEN }, fields: ['invitationId'] },
      { input: { orgId: 1, invitationId: uuid(), token: UNKNOWN_INVITATION_TOKEN }, fields: ['orgId'] },
      { input: { orgId, invitationId: uuid() }, fields: ['token'] },
      { input: { orgId, invitationId: uuid(), token: 'qinv_short' }, fields: ['token'] },
    ],
    'members.changeRole': [
      { input: { orgId, userId: 'u1', role: 'admin' }, fields: ['userId'] },
      { input: { orgId, userId: memberId, role: 'emperor' }, fields: ['role'] },
      { input: { orgId, userId: memberId }, fields: ['role'] },
    ],
    'members.remove': [
      { input: { orgId }, fields: ['userId'] },
      { input: { orgId, userId: `${memberId}x` }, fields: ['userId'] },
    ],
    'members.list': badMinPosition,
    'seats.purchase': quantities,
    'seats.release': quantities,
    'seats.assign': [
      { input: { orgId, userId: 'me' }, fields: ['userId'] },
      { input: { userId: memberId }, fields: ['orgId'] },
    ],
    'seats.unassign': [{ input: { orgId, userId: null }, fields: ['userId'] }],
    'seats.get': badMinPosition,
    'apiKeys.create': [
      { input: { orgId, name: long(101), role: 'admin' }, fields: ['name'] },
      { input: { orgId, name: '', role: 'admin' }, fields: ['name'] },
      { input: { orgId, name: 'ci', role: 'owner' }, fields: ['role'] },
      { input: { orgId, name: 'ci', role: 'root' }, fields: ['role'] },
    ],
    'apiKeys.list': [
      { input: { orgId: 'abc' }, fields: ['orgId'] },
      { input: { orgId, minPosition: '12.5' }, fields: ['minPosition'] },
    ],
    'apiKeys.revoke': [
      { input: { orgId, keyId: 'qk_123' }, fields: ['keyId'] },
      { input: { orgId }, fields: ['keyId'] },
    ],
    'events.list': [
      { input: { orgId, limit: 0 }, fields: ['limit'] },
      { input: { orgId, limit: 501 }, fields: ['limit'] },
      { input: { orgId, limit: 2.5 }, fields: ['limit'] },
      { input: { orgId, after: 'x' }, fields: ['after'] },
      { input: { orgId, before: -3 }, fields: ['before'] },
      { input: { orgId, order: 'sideways' }, fields: ['order'] },
      { input: { orgId, types: [''] }, fields: ['types.0'] },
      { input: { orgId, minPosition: 'soon' }, fields: ['minPosition'] },
    ],
    'meetings.create': [
      { input: { orgId, title: '' }, fields: ['title'] },
      { input: { orgId, title: long(201) }, fields: ['title'] },
      { input: { orgId, title: 'Standup', scheduledFor: 'tomorrow' }, fields: ['scheduledFor'] },
      { input: { orgId, title: 'Standup', hostUserId: 'me' }, fields: ['hostUserId'] },
      { input: { title: 'Standup' }, fields: ['orgId'] },
    ],
    'meetings.get': [
      { input: { orgId, sessionId: 'abc' }, fields: ['sessionId'] },
      { input: { orgId, sessionId: uuid(), minPosition: 'now' }, fields: ['minPosition'] },
    ],
    'meetings.list': [
      { input: { orgId, status: 'running' }, fields: ['status'] },
      { input: { orgId, limit: 0 }, fields: ['limit'] },
    ],
    'meetings.join': [
      { input: { orgId }, fields: ['sessionId'] },
      { input: { orgId, sessionId: uuid(), displayName: long(101) }, fields: ['displayName'] },
    ],
    'meetings.end': [{ input: { orgId, sessionId: 7 }, fields: ['sessionId'] }],
    'meetings.lock': [{ input: { sessionId: uuid() }, fields: ['orgId'] }],
    'meetings.unlock': [{ input: { orgId: 'x', sessionId: uuid() }, fields: ['orgId'] }],
    'meetings.mute': [
      { input: { orgId, sessionId: uuid(), participantId: uuid(), kind: 'screen' }, fields: ['kind'] },
      { input: { orgId, sessionId: uuid(), kind: 'audio' }, fields: ['participantId'] },
    ],
    'meetings.remove': [{ input: { orgId, sessionId: uuid(), participantId: 'someone' }, fields: ['participantId'] }],
    'sfu.participantJoined': [
      { input: { orgId, sessionId: uuid(), participantId: uuid(), displayName: '' }, fields: ['displayName'] },
      { input: { orgId, sessionId: 'x', participantId: uuid(), displayName: 'A' }, fields: ['sessionId'] },
    ],
    'sfu.participantLeft': [
      { input: { orgId, sessionId: uuid(), participantId: uuid(), reason: 'bored' }, fields: ['reason'] },
    ],
    'events.live': [
      { input: { orgId: 'nope' }, fields: ['orgId'] },
      { input: { orgId, after: 'x' }, fields: ['after'] },
      { input: { orgId, lastEventId: -1 }, fields: ['lastEventId'] },
    ],
  };
}

/** How the call was refused; a subscription over HTTP refuses inside its event stream. */
async function refusal(path: string, input: unknown, creds: CallOptions) {
  if (procedureTypes[path] === 'subscription') {
    const started = await openSubscription(q.baseUrl, path, input, creds);
    if (started.ok) throw new Error(`expected ${path} to refuse ${JSON.stringify(input)}`);
    return started.failure;
  }
  return failure(QUERIES.has(path) ? q.http.query(path, input, creds) : q.http.mutation(path, input, creds));
}

/** Everything a bad call could have changed: the store head and the organization's view. */
async function snapshot() {
  const token = owner.token;
  const [head, events, seats, members, keys] = await Promise.all([
    settledHead(q),
    q.http.query('events.list', { orgId, limit: 500 }, { token }),
    q.http.query('seats.get', { orgId }, { token }),
    q.http.query('members.list', { orgId }, { token }),
    q.http.query('apiKeys.list', { orgId }, { token }),
  ]);
  const users = await q.app.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM users');
  return { head, events: events.events.length, seats, members, keys: keys.length, users: users.rows[0]?.n };
}

beforeAll(async () => {
  q = await startTestQuorum('badinput');
  owner = await signUp(q.http, 'owner');
  ({ orgId } = await createOrg(q.http, owner, 'pro'));
  const bought = await q.http.mutation('seats.purchase', { orgId, quantity: 3 }, { token: owner.token });
  memberId = (await addMember(q.http, orgId, owner, 'member')).userId;
  await q.http.query('seats.get', { orgId, minPosition: bought.position }, { token: owner.token });
});

afterAll(async () => {
  await q?.stop();
});

describe('malformed input', () => {
  it('every procedure has bad-input cases', () => {
    const covered = Object.keys(badInputs());
    for (const path of Object.keys(procedureTypes)) expect(covered, path).toContain(path);
  });

  it.each(Object.keys(appRouter._def.procedures).sort())(
    '%s → 400 BAD_REQUEST naming the fields, nothing changed',
    async (path) => {
      const cases = badInputs()[path] ?? [];
      expect(cases.length).toBeGreaterThan(0);
      const before = await snapshot();
      // The SFU's procedures are answered only with a service token; users get 401 before parsing.
      const creds: CallOptions = path.startsWith('sfu.') ? { serviceToken: serviceToken(q) } : { token: owner.token };
      for (const c of cases) {
        const f = await refusal(path, c.input, creds);
        const label = `${path} ${JSON.stringify(c.input).slice(0, 120)}`;
        expect(f, label).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
        const paths = (f.fieldErrors ?? []).map((e) => e.path);
        for (const field of c.fields) expect(paths, label).toContain(field);
        for (const field of c.fields) expect(f.message, label).toContain(field);
      }
      expect(await snapshot()).toEqual(before);
    },
  );
});

describe('malformed requests', () => {
  async function post(path: string, body: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${q.baseUrl}/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}`, ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as { error?: { message: string; data: { code: string } } } };
  }

  it('a body over 1 MiB → 413 PAYLOAD_TOO_LARGE, nothing changed', async () => {
    const before = await snapshot();
    const res = await post('org.create', JSON.stringify({ name: long(1024 * 1024 + 16), plan: 'pro' }));
    expect(res.status).toBe(413);
    expect(res.body.error?.data.code).toBe('PAYLOAD_TOO_LARGE');
    const seats = await post('seats.purchase', JSON.stringify({ orgId, quantity: 1, padding: long(2 * 1024 * 1024) }));
    expect(seats.status).toBe(413);
    expect(await snapshot()).toEqual(before);
  });

  it('a body just under 1 MiB is read (and refused for its content, not its size)', async () => {
    const res = await post('seats.purchase', JSON.stringify({ orgId, quantity: 0, padding: long(1000 * 1024) }));
    expect(res.status).toBe(400);
    expect(res.body.error?.data.code).toBe('BAD_REQUEST');
  });

  it('a malformed Idempotency-Key → 400, nothing changed', async () => {
    const before = await snapshot();
    for (const key of ['has space', long(201), 'tab\tinside']) {
      const res = await post('seats.purchase', JSON.stringify({ orgId, quantity: 1 }), { 'idempotency-key': key });
      expect(res.status, key).toBe(400);
      expect(res.body.error?.data.code, key).toBe('BAD_REQUEST');
      expect(res.body.error?.message, key).toContain('Idempotency-Key');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('an invalid JSON body → 400, nothing changed', async () => {
    const before = await snapshot();
    for (const body of ['{not json', '{"orgId": "', '']) {
      const res = await post('seats.purchase', body);
      expect(res.status, body).toBe(400);
      expect(['PARSE_ERROR', 'BAD_REQUEST'], body).toContain(res.body.error?.data.code);
    }
    const query = await fetch(`${q.baseUrl}/trpc/seats.get?input=${encodeURIComponent('{"orgId":')}`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(query.status).toBe(400);
    expect(await snapshot()).toEqual(before);
  });
});
