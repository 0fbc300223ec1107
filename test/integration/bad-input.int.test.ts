/**
 * Bad input at the edge: every procedure answers malformed input with 400 BAD_REQUEST naming
 * the fields, and nothing is appended or projected. Oversized bodies, broken JSON and a
 * malformed Idempotency-Key are refused the same way. The per-procedure cases are the ones the
 * gateway's `createCaller` tests run (`@quorum/gateway/testing/bad-input-cases`).
 */
import { OPERATOR_ACTIONS } from '@quorum/domain';
import { badInputs, type BadInputIds } from '@quorum/gateway/testing/bad-input-cases';
import { procedureTypes } from '@quorum/gateway/testing/procedures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, type CallOptions } from '../support/http-client';
import { serviceToken } from '../support/meetings';
import { addMember, createOrg, signUp, type TestUser } from '../support/people';
import { operatorsOf } from '../support/operators';
import { openSubscription } from '../support/subscription-client';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;
let owner: TestUser;
let orgId: string;
let memberId: string;
let operator: TestUser;

const types = procedureTypes();
const long = (n: number) => 'x'.repeat(n);
const ids = (): BadInputIds => ({ orgId, memberId, ownerEmail: owner.email });

/** How the call was refused; a subscription over HTTP refuses inside its event stream. */
async function refusal(path: string, input: unknown, creds: CallOptions) {
  if (types[path] === 'subscription') {
    const started = await openSubscription(q.baseUrl, path, input, creds);
    if (started.ok) throw new Error(`expected ${path} to refuse ${JSON.stringify(input)}`);
    return started.failure;
  }
  const query = types[path] === 'query';
  return failure(query ? q.http.query(path, input, creds) : q.http.mutation(path, input, creds));
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
  operator = await signUp(q.http, 'operator');
  await operatorsOf(q).grant(operator.userId, 'bad-input');
  await q.http.query('seats.get', { orgId, minPosition: bought.position }, { token: owner.token });
});

afterAll(async () => {
  await q?.stop();
});

describe('malformed input', () => {
  it('every procedure has bad-input cases', () => {
    const covered = Object.keys(badInputs(ids()));
    for (const path of Object.keys(types)) expect(covered, path).toContain(path);
  });

  it.each(Object.keys(types).sort())('%s → 400 BAD_REQUEST naming the fields, nothing changed', async (path) => {
    const cases = badInputs(ids())[path] ?? [];
    expect(cases.length).toBeGreaterThan(0);
    const before = await snapshot();
    // The SFU's procedures are answered only with a service token, users get 401 before parsing;
    // operator procedures refuse anyone but an operator before parsing.
    const creds: CallOptions = path.startsWith('sfu.')
      ? { serviceToken: serviceToken(q) }
      : (OPERATOR_ACTIONS as readonly string[]).includes(path)
        ? { token: operator.token }
        : { token: owner.token };
    for (const c of cases) {
      const f = await refusal(path, c.input, creds);
      const label = `${path} ${JSON.stringify(c.input).slice(0, 120)}`;
      expect(f, label).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
      const paths = (f.fieldErrors ?? []).map((e) => e.path);
      for (const field of c.fields) expect(paths, label).toContain(field);
      for (const field of c.fields) expect(f.message, label).toContain(field);
    }
    expect(await snapshot()).toEqual(before);
  });
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
