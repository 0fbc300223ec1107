/**
 * The role × procedure matrix, walked whole over HTTP: every role (and API keys with a role)
 * calls every org-scoped procedure with valid input, and the answer must agree with
 * `can(role, action)`. Cases are keyed by `ACTIONS`, so a new action without a case fails; they
 * are the ones the gateway's `createCaller` tests run (`@quorum/gateway/testing/role-matrix-cases`).
 */
import { ACTIONS, can, type Action, type Role } from '@quorum/domain';
import { procedureTypes } from '@quorum/gateway/testing/procedures';
import {
  createRoleMatrix,
  describeCoverage,
  HTTP_ROUTES,
  OPERATOR_ONLY,
  OPERATOR_ROUTES,
  operatorInputs,
  prepareOperatorCalls,
  PUBLIC,
  unauthenticatedInputs,
  userOnlyCalls,
} from '@quorum/gateway/testing/role-matrix-cases';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, type CallOptions } from '../support/http-client';
import { serviceToken } from '../support/meetings';
import { addMember, createOrg, invitationToken, signUp, uniqueEmail, type TestUser } from '../support/people';
import { operatorsOf } from '../support/operators';
import { openSubscription } from '../support/subscription-client';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';
import { getRoute, routeFailure } from '../support/usage';

const types = procedureTypes();

let q: TestQuorum;
let owner: TestUser;
let orgId: string;
const users = {} as Record<Exclude<Role, 'owner'>, TestUser>;
const keys = {} as Record<'admin' | 'member', string>;

const asOwner = () => ({ token: owner.token });
const asUser = (user: TestUser) => ({ token: user.token });

/** Calls the procedure at `path` over HTTP, a GET for a query and a POST otherwise. */
function call(path: string, input: unknown, creds?: CallOptions) {
  return types[path] === 'query' ? q.http.query(path, input, creds) : q.http.mutation(path, input, creds);
}

const matrix = createRoleMatrix({
  people: () => ({ owner, users, keys }),
  asOwner: (path, input) => call(path, input, asOwner()),
  asService: (path, input) => call(path, input, { serviceToken: serviceToken(q) }),
  addMember: async (org) => (await addMember(q.http, org, owner, 'member', 'target')).userId,
  sql: () => q.app.sql,
});

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

describeCoverage(matrix);

describe.each(matrix.callers)('$name', (caller) => {
  it.each(caller.actions)('$action → allowed: $allowed', async ({ action, allowed }) => {
    const c = matrix.cases[action];
    const input = await c.input(orgId, allowed);
    if (allowed) {
      const result = await call(action, input, caller.creds());
      c.after?.(result);
      expect(result).toBeDefined();
    } else {
      const f = await failure(call(action, input, caller.creds()));
      expect(f).toMatchObject({ status: 403, code: 'FORBIDDEN', reason: 'auth.forbidden' });
      expect(f.message).toContain(action);
    }
  });

  it.each(caller.subscriptions)('subscription $path → allowed: $allowed', async ({ path, allowed }) => {
    const started = await openSubscription(q.baseUrl, path, { orgId }, caller.creds());
    if (allowed) expect(started).toMatchObject({ ok: true });
    else expect(started).toMatchObject({ ok: false, failure: { code: 'FORBIDDEN', reason: 'auth.forbidden' } });
  });

  it.each(Object.entries(HTTP_ROUTES))('plain HTTP %s', async (path, route) => {
    const res = await getRoute(q.baseUrl, path, route.query(orgId), caller.creds());
    if (can(caller.role, route.action)) {
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    } else {
      expect(await routeFailure(res)).toMatchObject({ status: 403, code: 'FORBIDDEN', reason: 'auth.forbidden' });
    }
  });
});

describe('outside the organization', () => {
  it('a user who is not a member gets NOT_FOUND for every org-scoped procedure', async () => {
    const stranger = await signUp(q.http, 'stranger');
    for (const action of ACTIONS) {
      const f = await failure(call(action, await matrix.cases[action].input(orgId, false), { token: stranger.token }));
      expect(f, action).toMatchObject({ status: 404, code: 'NOT_FOUND', reason: 'organization.not_found' });
    }
    for (const [path, route] of Object.entries(HTTP_ROUTES)) {
      const f = await routeFailure(await getRoute(q.baseUrl, path, route.query(orgId), { token: stranger.token }));
      expect(f, path).toMatchObject({ status: 404, code: 'NOT_FOUND', reason: 'organization.not_found' });
    }
    for (const path of matrix.subscriptions) {
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
      // Inputs naming organization B, built as A's owner would (ids of A are as good as any).
      const input = { ...(await matrix.cases[action].input(orgId, false)), orgId: other.orgId };
      const f = await failure(call(action, input, { apiKey: keyA }));
      expect(f, action).toMatchObject({ status: 404, code: 'NOT_FOUND', reason: 'organization.not_found' });
    }
    for (const [path, route] of Object.entries(HTTP_ROUTES)) {
      const f = await routeFailure(await getRoute(q.baseUrl, path, route.query(other.orgId), { apiKey: keyA }));
      expect(f, path).toMatchObject({ status: 404, code: 'NOT_FOUND', reason: 'organization.not_found' });
    }
    for (const path of matrix.subscriptions) {
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
    const needsPrincipal = Object.keys(types).filter((p) => ![...PUBLIC, ...matrix.subscriptions].includes(p));
    const inputs = unauthenticatedInputs(orgId);
    for (const path of needsPrincipal) {
      const input = inputs[path] ?? (await matrix.cases[path as Action].input(orgId, false));
      const f = await failure(call(path, input));
      expect(f, path).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    }
    for (const path of matrix.subscriptions) {
      const started = await openSubscription(q.baseUrl, path, { orgId });
      expect(started, path).toMatchObject({ ok: false, failure: { status: 401, code: 'UNAUTHORIZED' } });
    }
    for (const [path, route] of Object.entries({ ...HTTP_ROUTES, ...OPERATOR_ROUTES })) {
      const f = await routeFailure(await getRoute(q.baseUrl, path, route.query(orgId)));
      expect(f, path).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    }
  });

  it('an API key cannot call user-only procedures (org.create, org.list, members.accept, auth.me)', async () => {
    const invite = await q.http.mutation(
      'members.invite',
      { orgId, email: uniqueEmail('key-accept'), role: 'member' },
      asOwner(),
    );
    const calls = userOnlyCalls(orgId, { invitationId: invite.invitationId, token: invitationToken(invite) });
    const before = await settledHead(q);
    for (const [path, input] of calls) {
      const f = await failure(call(path, input, { apiKey: keys.admin }));
      expect(f, path).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    }
    expect(await settledHead(q)).toBe(before);
  });
});

describe('operator-only procedures and routes', () => {
  it('refuse every caller of the matrix, API keys too, and answer an operator', async () => {
    for (const caller of matrix.callers) {
      for (const path of OPERATOR_ONLY) {
        const f = await failure(call(path, operatorInputs()[path], caller.creds()));
        expect(f, `${caller.name} ${path}`).toMatchObject({
          status: 403,
          code: 'FORBIDDEN',
          reason: 'auth.not_operator',
        });
      }
      for (const [path, route] of Object.entries(OPERATOR_ROUTES)) {
        const f = await routeFailure(await getRoute(q.baseUrl, path, route.query(), caller.creds()));
        expect(f, `${caller.name} ${path}`).toMatchObject({
          status: 403,
          code: 'FORBIDDEN',
          reason: 'auth.not_operator',
        });
      }
    }
    const operator = await signUp(q.http, 'operator');
    await operatorsOf(q).grant(operator.userId, 'role-matrix');
    await prepareOperatorCalls(q.app.sql);
    for (const path of OPERATOR_ONLY)
      await expect(call(path, operatorInputs()[path], asUser(operator))).resolves.toBeDefined();
    for (const [path, route] of Object.entries(OPERATOR_ROUTES)) {
      const res = await getRoute(q.baseUrl, path, route.query(), asUser(operator));
      expect(res.status, path).toBe(200);
      await res.arrayBuffer();
    }
  });
});
