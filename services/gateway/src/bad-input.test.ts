/**
 * Bad input through `createCaller`, over the embedded adapters: every procedure answers
 * malformed input with BAD_REQUEST naming the fields (`data.fieldErrors` over HTTP), and nothing
 * is appended or projected. The same cases run over HTTP in
 * `test/integration/bad-input.int.test.ts`, which also covers what only HTTP has (body size,
 * broken JSON); both take their cases from `testing/bad-input-cases.ts`. The procedure list
 * comes from the router, so a new procedure without cases fails here first.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { OPERATOR_ACTIONS } from '@quorum/domain';
import { signServiceToken } from '@quorum/signaling/tokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badInputs, type BadInputIds } from './testing/bad-input-cases';
import { callPath, refusal, startCallerHarness, type CallerHarness, type TestUser } from './testing/caller-harness';
import { procedureTypes } from './testing/procedures';

let h: CallerHarness;
let owner: TestUser;
let orgId: string;
let memberId: string;
let operator: TestUser;

const types = procedureTypes();
const long = (n: number) => 'x'.repeat(n);
const uuid = () => randomUUID();
const ids = (): BadInputIds => ({ orgId, memberId, ownerEmail: owner.email });

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
  operator = await h.signUpOperator();
  await h.caller({ token: owner.token }).seats.get({ orgId, minPosition: bought.position });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('malformed input', () => {
  it('every procedure has bad-input cases', () => {
    const covered = Object.keys(badInputs(ids()));
    for (const path of Object.keys(types)) expect(covered, path).toContain(path);
  });

  it.each(Object.keys(types).sort())('%s → BAD_REQUEST naming the fields, nothing changed', async (path) => {
    const cases = badInputs(ids())[path] ?? [];
    expect(cases.length).toBeGreaterThan(0);
    const before = await snapshot();
    // The SFU's procedures are answered only with a service token, users get UNAUTHORIZED before
    // parsing; operator procedures refuse anyone but an operator before parsing.
    const caller = path.startsWith('sfu.')
      ? h.service()
      : (OPERATOR_ACTIONS as readonly string[]).includes(path)
        ? h.caller({ token: operator.token })
        : h.caller({ token: owner.token });
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
