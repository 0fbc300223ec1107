/**
 * Bad input through `createCaller`, over the embedded adapters: every procedure answers
 * malformed input with BAD_REQUEST naming the fields (`data.fieldErrors` over HTTP), and nothing
 * is appended or projected. The same cases run over HTTP in
 * `test/integration/bad-input.int.test.ts`, which also covers what only HTTP has (body size,
 * broken JSON); the procedure list comes from the router, so a new procedure without cases
 * fails here first.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { signServiceToken } from '@quorum/signaling/tokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callPath,
  procedureTypes,
  refusal,
  startCallerHarness,
  UNKNOWN_INVITATION_TOKEN,
  type CallerHarness,
  type TestUser,
} from './testing/caller-harness';

let h: CallerHarness;
let owner: TestUser;
let orgId: string;
let memberId: string;

interface BadCase {
  input: unknown;
  /** Field paths the error must name. */
  fields: string[];
}

const types = procedureTypes();
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

/** Everything a bad call could have changed: the store head and the organization's view. */
async function snapshot() {
  const asOwner = h.caller({ token: owner.token });
  const [head, events, seats, members, keys] = await Promise.all([
    h.settledHead(),
    asOwner.events.list({ orgId, limit: 500 }),
    asOwner.seats.get({ orgId }),
    asOwner.members.list({ orgId }),
    asOwner.apiKeys.list({ orgId }),
  ]);
  const users = await h.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM users');
  return { head, events: events.events.length, seats, members, keys: keys.length, users: users.rows[0]?.n };
}

beforeAll(async () => {
  h = await startCallerHarness();
  owner = await h.signUp('owner');
  ({ orgId } = await h.createOrg(owner, 'pro'));
  const bought = await h.caller({ token: owner.token }).seats.purchase({ orgId, quantity: 3 });
  memberId = (await h.addMember(orgId, owner, 'member')).userId;
  await h.caller({ token: owner.token }).seats.get({ orgId, minPosition: bought.position });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('malformed input', () => {
  it('every procedure has bad-input cases', () => {
    const covered = Object.keys(badInputs());
    for (const path of Object.keys(types)) expect(covered, path).toContain(path);
  });

  it.each(Object.keys(types).sort())('%s → BAD_REQUEST naming the fields, nothing changed', async (path) => {
    const cases = badInputs()[path] ?? [];
    expect(cases.length).toBeGreaterThan(0);
    const before = await snapshot();
    // The SFU's procedures are answered only with a service token; users get UNAUTHORIZED before parsing.
    const caller = path.startsWith('sfu.') ? h.service() : h.caller({ token: owner.token });
    for (const c of cases) {
      const f = await refusal(callPath(caller, path, c.input));
      const label = `${path} ${JSON.stringify(c.input).slice(0, 120)}`;
      expect(f, label).toMatchObject({ code: 'BAD_REQUEST' });
      const paths = (f.fieldErrors ?? []).map((e) => e.path);
      for (const field of c.fields) expect(paths, label).toContain(field);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('malformed calls', () => {
  it('a malformed Idempotency-Key → BAD_REQUEST before the procedure runs, nothing changed', async () => {
    const before = await snapshot();
    for (const key of ['has space', long(201), 'tab\tinside', '']) {
      const f = await refusal(
        h.caller({ token: owner.token, idempotencyKey: key }).seats.purchase({ orgId, quantity: 1 }),
      );
      expect(f, key).toMatchObject({ code: 'BAD_REQUEST' });
      expect(f.message, key).toContain('Idempotency-Key');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('a service token signed with another secret → UNAUTHORIZED, nothing changed', async () => {
    const before = await snapshot();
    const forged = signServiceToken('sfu:test', randomBytes(32).toString('hex'), Math.floor(Date.now() / 1000));
    const f = await refusal(
      h.caller({ serviceToken: forged }).sfu.participantJoined({
        orgId,
        sessionId: uuid(),
        participantId: memberId,
        displayName: 'Member',
      }),
    );
    expect(f).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(f.message).toContain('Service token refused');
    expect(await snapshot()).toEqual(before);
  });
});
