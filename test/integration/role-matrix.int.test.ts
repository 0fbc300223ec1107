/**
 * The role × procedure matrix, walked whole over HTTP: every role (and API keys with a role)
 * calls every org-scoped procedure with valid input, and the answer must agree with
 * `can(role, action)`. Cases are keyed by `ACTIONS`, so a new action without a case fails.
 */
import { randomUUID } from 'node:crypto';
import { ACTIONS, can, UNGATED_ACTIONS, type Action, type Role } from '@quorum/domain';
import { appRouter } from '@quorum/gateway/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, type CallOptions } from '../support/http-client';
import { createMeeting, reportJoined } from '../support/meetings';
import {
  addMember,
  createOrg,
  invitationToken,
  signUp,
  UNKNOWN_INVITATION_TOKEN,
  uniqueEmail,
  type TestUser,
} from '../support/people';
import { openSubscription } from '../support/subscription-client';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';

interface Caller {
  name: string;
  role: Role;
  creds: () => CallOptions;
}

interface Case {
  kind: 'query' | 'mutation';
  /** Valid input for `orgId`, prepared by the owner so an allowed call can succeed. */
  input: (orgId: string) => Promise<Record<string, unknown>>;
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

/**
 * Subscriptions reuse the action of the query they follow. Every subscription in the router
 * must be listed here, so a new one cannot slip past the matrix.
 */
const SUBSCRIPTIONS: Record<string, Action> = { 'events.live': 'events.list' };

// At run time `_def.procedures` is flat, keyed by dotted path; its static type is nested.
const procedureTypes = Object.fromEntries(
  Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>).map(
    ([path, p]) => [path, p._def.type],
  ),
);
const subscriptions = Object.keys(procedureTypes).filter((p) => procedureTypes[p] === 'subscription');

let q: TestQuorum;
let owner: TestUser;
let orgId: string;
let plan: 'pro' | 'business' = 'pro';
const users = {} as Record<Exclude<Role, 'owner'>, TestUser>;
const keys = {} as Record<'admin' | 'member', string>;

const http = () => q.http;
const asOwner = () => ({ token: owner.token });

/** A fresh member (role member) of `org`, optionally holding a seat. */
async function freshMember(org: string, withSeat = false): Promise<string> {
  const m = await addMember(http(), org, owner, 'member', 'target');
  if (withSeat) await http().mutation('seats.assign', { orgId: org, userId: m.userId }, asOwner());
  return m.userId;
}

const CASES: Record<Action, Case> = {
  'org.get': { kind: 'query', input: async (org) => ({ orgId: org }) },
  'org.changePlan': {
    kind: 'mutation',
    input: async (org) => ({ orgId: org, plan: plan === 'pro' ? 'business' : 'pro' }),
    after: () => {
      plan = plan === 'pro' ? 'business' : 'pro';
    },
  },
  'members.invite': {
    kind: 'mutation',
    input: async (org) => ({ orgId: org, email: uniqueEmail('invitee'), role: 'member' }),
  },
  'members.changeRole': {
    kind: 'mutation',
    input: async (org) => ({ orgId: org, userId: await freshMember(org), role: 'host' }),
  },
  'members.remove': { kind: 'mutation', input: async (org) => ({ orgId: org, userId: await freshMember(org) }) },
  'members.list': { kind: 'query', input: async (org) => ({ orgId: org }) },
  'seats.purchase': { kind: 'mutation', input: async (org) => ({ orgId: org, quantity: 1 }) },
  'seats.release': { kind: 'mutation', input: async (org) => ({ orgId: org, quantity: 1 }) },
  'seats.assign': { kind: 'mutation', input: async (org) => ({ orgId: org, userId: await freshMember(org) }) },
  'seats.unassign': { kind: 'mutation', input: async (org) => ({ orgId: org, userId: await freshMember(org, true) }) },
  'seats.get': { kind: 'query', input: async (org) => ({ orgId: org }) },
  'apiKeys.create': {
    kind: 'mutation',
    input: async (org) => ({ orgId: org, name: `key ${randomUUID().slice(0, 6)}`, role: 'member' }),
  },
  'apiKeys.list': { kind: 'query', input: async (org) => ({ orgId: org }) },
  'apiKeys.revoke': {
    kind: 'mutation',
    input: async (org) => {
      const created = await http().mutation(
        'apiKeys.create',
        { orgId: org, name: 'to revoke', role: 'member' },
        asOwner(),
      );
      return { orgId: org, keyId: created.key.id };
    },
  },
  'events.list': { kind: 'query', input: async (org) => ({ orgId: org }) },
  // Meetings are hosted by the `host` member (who holds a seat), so the host role passes the
  // decider's own host check and owners and admins pass it as organization moderators.
  'meetings.create': {
    kind: 'mutation',
    input: async (org) => ({ orgId: org, title: 'Matrix', hostUserId: users.host.userId }),
  },
  'meetings.get': { kind: 'query', input: async (org) => ({ orgId: org, ...(await hostedMeeting(org)) }) },
  'meetings.list': { kind: 'query', input: async (org) => ({ orgId: org }) },
  'meetings.join': {
    kind: 'mutation',
    input: async (org) => ({ orgId: org, sessionId: (await hostedMeeting(org)).sessionId }),
  },
  'meetings.end': {
    kind: 'mutation',
    input: async (org) => ({ orgId: org, sessionId: (await hostedMeeting(org)).sessionId }),
  },
  'meetings.lock': {
    kind: 'mutation',
    input: async (org) => ({ orgId: org, sessionId: (await hostedMeeting(org)).sessionId }),
  },
  'meetings.unlock': {
    kind: 'mutation',
    input: async (org) => {
      const { sessionId } = await hostedMeeting(org);
      await http().mutation('meetings.lock', { orgId: org, sessionId }, asOwner());
      return { orgId: org, sessionId };
    },
  },
  'meetings.mute': {
    kind: 'mutation',
    input: async (org) => ({ orgId: org, ...(await meetingWithGuest(org)), kind: 'audio' }),
  },
  'meetings.remove': { kind: 'mutation', input: async (org) => ({ orgId: org, ...(await meetingWithGuest(org)) }) },
};

/** A fresh meeting of `org` hosted by the `host` member, created by the owner. */
async function hostedMeeting(org: string): Promise<{ sessionId: string; minPosition: string }> {
  const { sessionId, position } = await createMeeting(http(), org, asOwner(), { hostUserId: users.host.userId });
  return { sessionId, minPosition: position };
}

/** A fresh meeting with one participant in it (the owner, who is not its host), reported by the SFU. */
async function meetingWithGuest(org: string): Promise<{ sessionId: string; participantId: string }> {
  const { sessionId } = await hostedMeeting(org);
  const participantId = owner.userId;
  await reportJoined(q, org, sessionId, participantId, 'Guest');
  return { sessionId, participantId };
}

function call(c: Case, action: Action, input: unknown, creds: CallOptions) {
  return c.kind === 'query' ? http().query(action, input, creds) : http().mutation(action, input, creds);
}

const CALLERS: Caller[] = [
  { name: 'owner', role: 'owner', creds: asOwner },
  { name: 'admin', role: 'admin', creds: () => ({ token: users.admin.token }) },
  { name: 'billing', role: 'billing', creds: () => ({ token: users.billing.token }) },
  { name: 'host', role: 'host', creds: () => ({ token: users.host.token }) },
  { name: 'member', role: 'member', creds: () => ({ token: users.member.token }) },
  { name: 'API key (admin)', role: 'admin', creds: () => ({ apiKey: keys.admin }) },
  { name: 'API key (member)', role: 'member', creds: () => ({ apiKey: keys.member }) },
];

beforeAll(async () => {
  q = await startTestQuorum('roles');
  owner = await signUp(q.http, 'owner');
  ({ orgId } = await createOrg(q.http, owner, 'pro'));
  await q.http.mutation('seats.purchase', { orgId, quantity: 20 }, asOwner());
  for (const role of ['admin', 'billing', 'host', 'member'] as const)
    users[role] = await addMember(q.http, orgId, owner, role);
  await q.http.mutation('seats.assign', { orgId, userId: users.host.userId }, asOwner());
  for (const role of ['admin', 'member'] as const) {
    keys[role] = (await q.http.mutation('apiKeys.create', { orgId, name: `${role} key`, role }, asOwner())).secret;
  }
});

afterAll(async () => {
  await q?.stop();
});

describe('the matrix covers the router', () => {
  it('every procedure is a role-gated action, ungated, not org-scoped, or a subscription gated by an action', () => {
    const procedures = Object.keys(procedureTypes)
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
      const input = await c.input(orgId);
      if (allowed) {
        const result = await call(c, action, input, caller.creds());
        c.after?.(result);
        expect(result).toBeDefined();
      } else {
        const f = await failure(call(c, action, input, caller.creds()));
        expect(f).toMatchObject({ status: 403, code: 'FORBIDDEN', reason: 'auth.forbidden' });
        expect(f.message).toContain(action);
      }
    },
  );

  it.each(subscriptions.map((path) => ({ path, allowed: can(caller.role, SUBSCRIPTIONS[path]!) })))(
    'subscription $path → allowed: $allowed',
    async ({ path, allowed }) => {
      const started = await openSubscription(q.baseUrl, path, { orgId }, caller.creds());
      if (allowed) expect(started).toMatchObject({ ok: true });
      else expect(started).toMatchObject({ ok: false, failure: { code: 'FORBIDDEN', reason: 'auth.forbidden' } });
    },
  );
});

describe('outside the organization', () => {
  it('a user who is not a member gets NOT_FOUND for every org-scoped procedure', async () => {
    const stranger = await signUp(q.http, 'stranger');
    for (const action of ACTIONS) {
      const c = CASES[action];
      const f = await failure(call(c, action, await c.input(orgId), { token: stranger.token }));
      expect(f, action).toMatchObject({ status: 404, code: 'NOT_FOUND', reason: 'organization.not_found' });
    }
    for (const path of subscriptions) {
      const started = await openSubscription(q.baseUrl, path, { orgId }, { token: stranger.token });
      expect(started, path).toMatchObject({
        ok: false,
        failure: { code: 'NOT_FOUND', reason: 'organization.not_found' },
      });
    }
  });

  it('an API key of organization A gets NOT_FOUND on organization B, for every procedure', async () => {
    const otherOwner = await signUp(q.http, 'other-owner');
    const other = await createOrg(q.http, otherOwner, 'pro');
    const keyA = (await q.http.mutation('apiKeys.create', { orgId, name: 'scoped', role: 'admin' }, asOwner()))
      .secret as string;
    for (const action of ACTIONS) {
      const c = CASES[action];
      // Inputs naming organization B, built as A's owner would (ids of A are as good as any).
      const input = { ...(await c.input(orgId)), orgId: other.orgId };
      const f = await failure(call(c, action, input, { apiKey: keyA }));
      expect(f, action).toMatchObject({ status: 404, code: 'NOT_FOUND', reason: 'organization.not_found' });
    }
    for (const path of subscriptions) {
      const started = await openSubscription(q.baseUrl, path, { orgId: other.orgId }, { apiKey: keyA });
      expect(started, path).toMatchObject({
        ok: false,
        failure: { code: 'NOT_FOUND', reason: 'organization.not_found' },
      });
    }
    // Organization B still answers its own owner, so the refusals were about the key.
    await expect(
      q.http.query('org.get', { orgId: other.orgId, minPosition: other.position }, { token: otherOwner.token }),
    ).resolves.toMatchObject({
      orgId: other.orgId,
    });
  });

  it('an unauthenticated call gets UNAUTHORIZED for every procedure that needs a principal', async () => {
    const needsPrincipal = Object.keys(procedureTypes).filter(
      (p) =>
        !['auth.signUp', 'auth.login', 'auth.refresh', 'auth.logout', 'auth.verifyEmail', ...subscriptions].includes(p),
    );
    const inputs: Record<string, unknown> = {
      'auth.me': {},
      'auth.resendVerification': {},
      'org.create': { name: 'Nobody Inc', plan: 'pro' },
      'org.list': {},
      'members.accept': { orgId, invitationId: randomUUID(), token: UNKNOWN_INVITATION_TOKEN },
      'sfu.participantJoined': { orgId, sessionId: randomUUID(), participantId: randomUUID(), displayName: 'Nobody' },
      'sfu.participantLeft': { orgId, sessionId: randomUUID(), participantId: randomUUID(), reason: 'left' },
    };
    const queries = new Set(['auth.me', 'org.list', ...ACTIONS.filter((a) => CASES[a].kind === 'query')]);
    for (const path of needsPrincipal) {
      const input = inputs[path] ?? (await CASES[path as Action].input(orgId));
      const f = await failure(queries.has(path) ? q.http.query(path, input) : q.http.mutation(path, input));
      expect(f, path).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    }
    for (const path of subscriptions) {
      const started = await openSubscription(q.baseUrl, path, { orgId });
      expect(started, path).toMatchObject({ ok: false, failure: { status: 401, code: 'UNAUTHORIZED' } });
    }
  });

  it('an API key cannot call user-only procedures (org.create, org.list, members.accept, auth.me)', async () => {
    const invite = await q.http.mutation(
      'members.invite',
      { orgId, email: uniqueEmail('key-accept'), role: 'member' },
      asOwner(),
    );
    const cases: Array<[string, 'query' | 'mutation', unknown]> = [
      ['org.create', 'mutation', { name: 'Keyed Inc', plan: 'pro' }],
      ['org.list', 'query', {}],
      ['members.accept', 'mutation', { orgId, invitationId: invite.invitationId, token: invitationToken(invite) }],
      ['auth.me', 'query', {}],
    ];
    const before = await settledHead(q);
    for (const [path, kind, input] of cases) {
      const f = await failure(
        kind === 'query'
          ? q.http.query(path, input, { apiKey: keys.admin })
          : q.http.mutation(path, input, { apiKey: keys.admin }),
      );
      expect(f, path).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    }
    expect(await settledHead(q)).toBe(before);
  });
});
