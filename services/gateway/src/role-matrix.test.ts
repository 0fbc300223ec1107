/**
 * The role × procedure matrix through `createCaller`, over the embedded adapters: every role
 * (and API keys with a role) calls every org-scoped procedure with valid input, and the answer
 * must agree with `can(role, action)`. The same matrix runs over HTTP in
 * `test/integration/role-matrix.int.test.ts`; the procedure list comes from the router, so a
 * new procedure without a row fails here first.
 */
import { randomUUID } from 'node:crypto';
import { ACTIONS, can, UNGATED_ACTIONS, type Action, type Role } from '@quorum/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callPath,
  invitationToken,
  procedureTypes,
  refusal,
  refusalOf,
  startCallerHarness,
  uniqueEmail,
  UNKNOWN_INVITATION_TOKEN,
  type CallerHarness,
  type Credentials,
  type TestUser,
} from './testing/caller-harness';

interface Case {
  /** Valid input for `orgId`, prepared by the owner so that the call succeeds when `allowed`. */
  input: (orgId: string, allowed: boolean) => Promise<Record<string, unknown>>;
  /** Bookkeeping after an allowed call succeeded. */
  after?: (result: unknown) => void;
}

/** Procedures that are not org-scoped, or not role-gated, with the principal they need. */
const NOT_ORG_SCOPED = [
  'auth.signUp',
  'auth.login',
  'auth.refresh',
  'auth.logout',
  'auth.me',
  'auth.verifyEmail',
  'auth.resendVerification',
  'org.create',
  'org.list',
];
/** Procedures for SFU nodes only (service token); users and API keys get UNAUTHORIZED. */
const SERVICE_ONLY = ['sfu.participantJoined', 'sfu.participantLeft'];
/** Open to anyone: they establish or end a principal rather than need one. */
const PUBLIC = ['auth.signUp', 'auth.login', 'auth.refresh', 'auth.logout', 'auth.verifyEmail'];

/**
 * Subscriptions reuse the action of the query they follow. Every subscription in the router
 * must be listed here, so a new one cannot slip past the matrix.
 */
const SUBSCRIPTIONS: Record<string, Action> = { 'events.live': 'events.list' };

const types = procedureTypes();
const subscriptions = Object.keys(types).filter((p) => types[p] === 'subscription');

let h: CallerHarness;
let owner: TestUser;
let orgId: string;
let plan: 'pro' | 'business' = 'pro';
const users = {} as Record<Exclude<Role, 'owner'>, TestUser>;
const keys = {} as Record<'admin' | 'member', string>;

const asOwner = () => h.caller({ token: owner.token });

/**
 * A member of `org` for a procedure to act on (role member; with a seat when `seated`): a fresh
 * one when the call should succeed. A call that should be refused gets one already there:
 * the role is checked before the target is looked at, and a fresh member costs a sign-up
 * (a password hash) for nothing.
 */
async function target(org: string, allowed: boolean, seated = false): Promise<string> {
  if (!allowed) return seated ? users.host.userId : users.member.userId;
  const m = await h.addMember(org, owner, 'member', 'target');
  if (seated) await asOwner().seats.assign({ orgId: org, userId: m.userId });
  return m.userId;
}

/** A fresh meeting of `org` hosted by the `host` member, created by the owner. */
async function hostedMeeting(org: string): Promise<{ sessionId: string; minPosition: string }> {
  const { sessionId, position } = await asOwner().meetings.create({
    orgId: org,
    title: 'Matrix',
    hostUserId: users.host.userId,
  });
  return { sessionId, minPosition: position };
}

/** A fresh meeting with one participant in it (the owner, who is not its host), reported by the SFU. */
async function meetingWithGuest(org: string): Promise<{ sessionId: string; participantId: string }> {
  const { sessionId } = await hostedMeeting(org);
  const participantId = owner.userId;
  await h.service().sfu.participantJoined({ orgId: org, sessionId, participantId, displayName: 'Guest' });
  return { sessionId, participantId };
}

const CASES: Record<Action, Case> = {
  'org.get': { input: async (org) => ({ orgId: org }) },
  'org.changePlan': {
    input: async (org) => ({ orgId: org, plan: plan === 'pro' ? 'business' : 'pro' }),
    after: () => {
      plan = plan === 'pro' ? 'business' : 'pro';
    },
  },
  'members.invite': { input: async (org) => ({ orgId: org, email: uniqueEmail('invitee'), role: 'member' }) },
  'members.changeRole': {
    input: async (org, allowed) => ({ orgId: org, userId: await target(org, allowed), role: 'host' }),
  },
  'members.remove': { input: async (org, allowed) => ({ orgId: org, userId: await target(org, allowed) }) },
  'members.list': { input: async (org) => ({ orgId: org }) },
  'seats.purchase': { input: async (org) => ({ orgId: org, quantity: 1 }) },
  'seats.release': { input: async (org) => ({ orgId: org, quantity: 1 }) },
  'seats.assign': { input: async (org, allowed) => ({ orgId: org, userId: await target(org, allowed) }) },
  'seats.unassign': { input: async (org, allowed) => ({ orgId: org, userId: await target(org, allowed, true) }) },
  'seats.get': { input: async (org) => ({ orgId: org }) },
  'apiKeys.create': { input: async (org) => ({ orgId: org, name: `key ${randomUUID().slice(0, 6)}`, role: 'member' }) },
  'apiKeys.list': { input: async (org) => ({ orgId: org }) },
  'apiKeys.revoke': {
    input: async (org) => {
      const created = await asOwner().apiKeys.create({ orgId: org, name: 'to revoke', role: 'member' });
      return { orgId: org, keyId: created.key.id };
    },
  },
  'events.list': { input: async (org) => ({ orgId: org }) },
  // Meetings are hosted by the `host` member (who holds a seat), so the host role passes the
  // decider's own host check and owners and admins pass it as organization moderators.
  'meetings.create': { input: async (org) => ({ orgId: org, title: 'Matrix', hostUserId: users.host.userId }) },
  'meetings.get': { input: async (org) => ({ orgId: org, ...(await hostedMeeting(org)) }) },
  'meetings.list': { input: async (org) => ({ orgId: org }) },
  'meetings.join': { input: async (org) => ({ orgId: org, sessionId: (await hostedMeeting(org)).sessionId }) },
  'meetings.end': { input: async (org) => ({ orgId: org, sessionId: (await hostedMeeting(org)).sessionId }) },
  'meetings.lock': { input: async (org) => ({ orgId: org, sessionId: (await hostedMeeting(org)).sessionId }) },
  'meetings.unlock': {
    input: async (org) => {
      const { sessionId } = await hostedMeeting(org);
      await asOwner().meetings.lock({ orgId: org, sessionId });
      return { orgId: org, sessionId };
    },
  },
  'meetings.mute': { input: async (org) => ({ orgId: org, ...(await meetingWithGuest(org)), kind: 'audio' }) },
  'meetings.remove': { input: async (org) => ({ orgId: org, ...(await meetingWithGuest(org)) }) },
};

const CALLERS: Array<{ name: string; role: Role; creds: () => Credentials }> = [
  { name: 'owner', role: 'owner', creds: () => ({ token: owner.token }) },
  { name: 'admin', role: 'admin', creds: () => ({ token: users.admin.token }) },
  { name: 'billing', role: 'billing', creds: () => ({ token: users.billing.token }) },
  { name: 'host', role: 'host', creds: () => ({ token: users.host.token }) },
  { name: 'member', role: 'member', creds: () => ({ token: users.member.token }) },
  { name: 'API key (admin)', role: 'admin', creds: () => ({ apiKey: keys.admin }) },
  { name: 'API key (member)', role: 'member', creds: () => ({ apiKey: keys.member }) },
];

/** Opens a subscription and closes it at once; a refusal comes before the stream opens. */
async function subscribe(path: string, input: unknown, creds: Credentials) {
  const abort = new AbortController();
  try {
    const stream = (await callPath(h.caller(creds, { signal: abort.signal }), path, input)) as AsyncIterable<unknown>;
    return { ok: typeof stream[Symbol.asyncIterator] === 'function' };
  } catch (err) {
    return { ok: false, failure: refusalOf(err) };
  } finally {
    abort.abort();
  }
}

beforeAll(async () => {
  h = await startCallerHarness();
  owner = await h.signUp('owner');
  ({ orgId } = await h.createOrg(owner, 'pro'));
  await asOwner().seats.purchase({ orgId, quantity: 20 });
  for (const role of ['admin', 'billing', 'host', 'member'] as const)
    users[role] = await h.addMember(orgId, owner, role);
  await asOwner().seats.assign({ orgId, userId: users.host.userId });
  for (const role of ['admin', 'member'] as const)
    keys[role] = (await asOwner().apiKeys.create({ orgId, name: `${role} key`, role })).secret;
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('the matrix covers the router', () => {
  it('every procedure is a role-gated action, ungated, not org-scoped, or a subscription gated by an action', () => {
    const procedures = Object.keys(types)
      .filter((p) => !subscriptions.includes(p))
      .sort();
    const known = [...ACTIONS, ...UNGATED_ACTIONS, ...NOT_ORG_SCOPED, ...SERVICE_ONLY].sort();
    expect(procedures).toEqual(known);
    for (const path of subscriptions)
      expect(SUBSCRIPTIONS[path], `${path} needs an entry in SUBSCRIPTIONS`).toBeDefined();
  });

  it('has a case for every action', () => {
    for (const action of ACTIONS) expect(CASES[action], action).toBeDefined();
  });
});

describe.each(CALLERS)('$name', (caller) => {
  it.each(ACTIONS.map((action) => ({ action, allowed: can(caller.role, action) })))(
    '$action → allowed: $allowed',
    async ({ action, allowed }) => {
      const c = CASES[action];
      const input = await c.input(orgId, allowed);
      const call = callPath(h.caller(caller.creds()), action, input);
      if (allowed) {
        const result = await call;
        c.after?.(result);
        expect(result).toBeDefined();
      } else {
        const f = await refusal(call);
        expect(f).toMatchObject({ code: 'FORBIDDEN', reason: 'auth.forbidden' });
        expect(f.message).toContain(action);
      }
    },
  );

  it.each(subscriptions.map((path) => ({ path, allowed: can(caller.role, SUBSCRIPTIONS[path]!) })))(
    'subscription $path → allowed: $allowed',
    async ({ path, allowed }) => {
      const started = await subscribe(path, { orgId }, caller.creds());
      if (allowed) expect(started).toMatchObject({ ok: true });
      else expect(started).toMatchObject({ ok: false, failure: { code: 'FORBIDDEN', reason: 'auth.forbidden' } });
    },
  );
});

describe('outside the organization', () => {
  it('a user who is not a member gets NOT_FOUND for every org-scoped procedure', async () => {
    const stranger = await h.signUp('stranger');
    for (const action of ACTIONS) {
      const f = await refusal(
        callPath(h.caller({ token: stranger.token }), action, await CASES[action].input(orgId, false)),
      );
      expect(f, action).toMatchObject({ code: 'NOT_FOUND', reason: 'organization.not_found' });
    }
    for (const path of subscriptions) {
      const started = await subscribe(path, { orgId }, { token: stranger.token });
      expect(started, path).toMatchObject({
        ok: false,
        failure: { code: 'NOT_FOUND', reason: 'organization.not_found' },
      });
    }
  });

  it('an API key of organization A gets NOT_FOUND on organization B, for every procedure', async () => {
    const otherOwner = await h.signUp('other-owner');
    const other = await h.createOrg(otherOwner, 'pro');
    const keyA = (await asOwner().apiKeys.create({ orgId, name: 'scoped', role: 'admin' })).secret;
    for (const action of ACTIONS) {
      // Inputs naming organization B, built as A's owner would (ids of A are as good as any).
      const input = { ...(await CASES[action].input(orgId, false)), orgId: other.orgId };
      const f = await refusal(callPath(h.caller({ apiKey: keyA }), action, input));
      expect(f, action).toMatchObject({ code: 'NOT_FOUND', reason: 'organization.not_found' });
    }
    for (const path of subscriptions) {
      const started = await subscribe(path, { orgId: other.orgId }, { apiKey: keyA });
      expect(started, path).toMatchObject({
        ok: false,
        failure: { code: 'NOT_FOUND', reason: 'organization.not_found' },
      });
    }
    // Organization B still answers its own owner, so the refusals were about the key.
    await expect(
      h.caller({ token: otherOwner.token }).org.get({ orgId: other.orgId, minPosition: other.position }),
    ).resolves.toMatchObject({ orgId: other.orgId });
  });

  it('an unauthenticated call gets UNAUTHORIZED for every procedure that needs a principal', async () => {
    const needsPrincipal = Object.keys(types).filter((p) => !PUBLIC.includes(p));
    const inputs: Record<string, unknown> = {
      'auth.me': {},
      'auth.resendVerification': {},
      'org.create': { name: 'Nobody Inc', plan: 'pro' },
      'org.list': {},
      'members.accept': { orgId, invitationId: randomUUID(), token: UNKNOWN_INVITATION_TOKEN },
      'sfu.participantJoined': { orgId, sessionId: randomUUID(), participantId: randomUUID(), displayName: 'Nobody' },
      'sfu.participantLeft': { orgId, sessionId: randomUUID(), participantId: randomUUID(), reason: 'left' },
      'events.live': { orgId },
    };
    for (const path of needsPrincipal) {
      const input = inputs[path] ?? (await CASES[path as Action].input(orgId, false));
      const head = await h.settledHead();
      const f = await refusal(callPath(h.caller(), path, input));
      expect(f, path).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await h.settledHead(), `${path} appended`).toBe(head);
    }
  });

  it('users and API keys get UNAUTHORIZED from the SFU procedures, which need a service token', async () => {
    const input: Record<string, unknown> = {
      'sfu.participantJoined': { orgId, sessionId: randomUUID(), participantId: owner.userId, displayName: 'Owner' },
      'sfu.participantLeft': { orgId, sessionId: randomUUID(), participantId: owner.userId, reason: 'left' },
    };
    for (const path of SERVICE_ONLY)
      for (const creds of [{ token: owner.token }, { apiKey: keys.admin }]) {
        const f = await refusal(callPath(h.caller(creds), path, input[path]));
        expect(f, `${path} ${Object.keys(creds)[0]}`).toMatchObject({ code: 'UNAUTHORIZED' });
      }
  });

  it('an API key cannot call user-only procedures (org.create, org.list, members.accept, auth.me)', async () => {
    const invite = await asOwner().members.invite({ orgId, email: uniqueEmail('key-accept'), role: 'member' });
    const cases: Array<[string, unknown]> = [
      ['org.create', { name: 'Keyed Inc', plan: 'pro' }],
      ['org.list', {}],
      ['members.accept', { orgId, invitationId: invite.invitationId, token: invitationToken(invite) }],
      ['auth.me', {}],
      ['auth.resendVerification', {}],
    ];
    const before = await h.settledHead();
    for (const [path, input] of cases) {
      const f = await refusal(callPath(h.caller({ apiKey: keys.admin }), path, input));
      expect(f, path).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect(await h.settledHead()).toBe(before);
  });
});
