/**
 * The role × procedure matrix through `createCaller`, over the embedded adapters: every role
 * (and API keys with a role) calls every org-scoped procedure with valid input, and the answer
 * must agree with `can(role, action)`. The same matrix runs over HTTP in
 * `test/integration/role-matrix.int.test.ts`; both take their cases from
 * `testing/role-matrix-cases.ts`. The procedure list comes from the router, so a new procedure
 * without a row fails here first.
 */
import { randomUUID } from 'node:crypto';
import { ACTIONS, type Action, type Role } from '@quorum/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callPath,
  invitationToken,
  refusal,
  refusalOf,
  startCallerHarness,
  uniqueEmail,
  type CallerHarness,
  type Credentials,
  type TestUser,
} from './testing/caller-harness';
import { procedureTypes } from './testing/procedures';
import {
  createRoleMatrix,
  describeCoverage,
  OPERATOR_ONLY,
  operatorInputs,
  prepareOperatorCalls,
  PUBLIC,
  SERVICE_ONLY,
  unauthenticatedInputs,
  userOnlyCalls,
} from './testing/role-matrix-cases';

const types = procedureTypes();

let h: CallerHarness;
let owner: TestUser;
let orgId: string;
const users = {} as Record<Exclude<Role, 'owner'>, TestUser>;
const keys = {} as Record<'admin' | 'member', string>;

const asOwner = () => h.caller({ token: owner.token });

const matrix = createRoleMatrix({
  people: () => ({ owner, users, keys }),
  asOwner: (path, input) => callPath(asOwner(), path, input),
  asService: (path, input) => callPath(h.service(), path, input),
  addMember: async (org) => (await h.addMember(org, owner, 'member', 'target')).userId,
  sql: () => h.sql,
});

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

describeCoverage(matrix);

describe.each(matrix.callers)('$name', (caller) => {
  it.each(caller.actions)('$action → allowed: $allowed', async ({ action, allowed }) => {
    const c = matrix.cases[action];
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
  });

  it.each(caller.subscriptions)('subscription $path → allowed: $allowed', async ({ path, allowed }) => {
    const started = await subscribe(path, { orgId }, caller.creds());
    if (allowed) expect(started).toMatchObject({ ok: true });
    else expect(started).toMatchObject({ ok: false, failure: { code: 'FORBIDDEN', reason: 'auth.forbidden' } });
  });
});

describe('outside the organization', () => {
  it('a user who is not a member gets NOT_FOUND for every org-scoped procedure', async () => {
    const stranger = await h.signUp('stranger');
    for (const action of ACTIONS) {
      const f = await refusal(
        callPath(h.caller({ token: stranger.token }), action, await matrix.cases[action].input(orgId, false)),
      );
      expect(f, action).toMatchObject({ code: 'NOT_FOUND', reason: 'organization.not_found' });
    }
    for (const path of matrix.subscriptions) {
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
      const input = { ...(await matrix.cases[action].input(orgId, false)), orgId: other.orgId };
      const f = await refusal(callPath(h.caller({ apiKey: keyA }), action, input));
      expect(f, action).toMatchObject({ code: 'NOT_FOUND', reason: 'organization.not_found' });
    }
    for (const path of matrix.subscriptions) {
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
    const inputs = unauthenticatedInputs(orgId);
    for (const path of needsPrincipal) {
      const input = inputs[path] ?? (await matrix.cases[path as Action].input(orgId, false));
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
    const calls = userOnlyCalls(orgId, { invitationId: invite.invitationId, token: invitationToken(invite) });
    const before = await h.settledHead();
    for (const [path, input] of calls) {
      const f = await refusal(callPath(h.caller({ apiKey: keys.admin }), path, input));
      expect(f, path).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect(await h.settledHead()).toBe(before);
  });
});

describe('operator-only procedures', () => {
  it.each(OPERATOR_ONLY)(
    '%s refuses every caller of the matrix, API keys too, and answers an operator',
    async (path) => {
      const input = operatorInputs()[path];
      for (const caller of matrix.callers) {
        const f = await refusal(callPath(h.caller(caller.creds()), path, input));
        expect(f, caller.name).toMatchObject({ code: 'FORBIDDEN', reason: 'auth.not_operator' });
      }
      const operator = await h.signUpOperator();
      await prepareOperatorCalls(h.sql);
      await expect(callPath(h.caller({ token: operator.token }), path, input)).resolves.toBeDefined();
    },
  );

  it.each(OPERATOR_ONLY)(
    '%s refuses a non-operator before reading the input, so bad input tells nothing',
    async (path) => {
      const f = await refusal(callPath(h.caller({ token: owner.token }), path, { period: 'not a month', limit: -1 }));
      expect(f).toMatchObject({ code: 'FORBIDDEN', reason: 'auth.not_operator' });
    },
  );
});
