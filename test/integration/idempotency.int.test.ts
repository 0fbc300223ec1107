/**
 * Idempotency-Key: a retried mutation appends nothing new and answers what the first attempt
 * answered; keys are scoped per caller and per procedure; concurrent retries append once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../support/http-client';
import { addMember, createOrg, signUp, uniqueEmail, type TestUser } from '../support/people';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;
let owner: TestUser;

const key = () => `idem-${randomUUID()}`;

/** Events of `orgId` as the owner sees them once `minPosition` is projected. */
async function eventTypes(orgId: string, minPosition: string, token = owner.token): Promise<string[]> {
  const r = await q.http.query('events.list', { orgId, minPosition, limit: 500 }, { token });
  return r.events.map((e: { type: string }) => e.type);
}

beforeAll(async () => {
  q = await startTestQuorum('idempotency');
  owner = await signUp(q.http, 'owner');
});

afterAll(async () => {
  await q?.stop();
});

describe('org.create', () => {
  it('the same key twice creates one organization and answers the same orgId and position', async () => {
    const k = key();
    const input = { name: 'Once Inc', plan: 'pro' };
    const first = await q.http.mutation('org.create', input, { token: owner.token, idempotencyKey: k });
    // Once projected, the first append is below the store's read horizon, so the head is stable.
    expect(await eventTypes(first.orgId, first.position)).toEqual(['organization.created', 'member.joined']);
    const head = await settledHead(q);
    const second = await q.http.mutation('org.create', input, { token: owner.token, idempotencyKey: k });
    expect(second).toEqual(first);
    expect(await eventTypes(first.orgId, second.position)).toEqual(['organization.created', 'member.joined']);
    expect(await settledHead(q)).toBe(head);
    const mine = await q.http.query('org.list', { minPosition: first.position }, { token: owner.token });
    expect(mine.filter((o: { orgId: string }) => o.orgId === first.orgId)).toHaveLength(1);
  });

  it('a different key creates another organization', async () => {
    const input = { name: 'Twice Inc', plan: 'pro' };
    const a = await q.http.mutation('org.create', input, { token: owner.token, idempotencyKey: key() });
    const b = await q.http.mutation('org.create', input, { token: owner.token, idempotencyKey: key() });
    expect(b.orgId).not.toBe(a.orgId);
    expect(BigInt(b.position)).toBeGreaterThan(BigInt(a.position));
  });

  it('the same key from a different user is independent', async () => {
    const other = await signUp(q.http, 'other');
    const k = key();
    const a = await q.http.mutation(
      'org.create',
      { name: 'Mine', plan: 'pro' },
      { token: owner.token, idempotencyKey: k },
    );
    const b = await q.http.mutation(
      'org.create',
      { name: 'Theirs', plan: 'pro' },
      { token: other.token, idempotencyKey: k },
    );
    expect(b.orgId).not.toBe(a.orgId);
    const got = await q.http.query('org.get', { orgId: b.orgId, minPosition: b.position }, { token: other.token });
    expect(got).toMatchObject({ name: 'Theirs', ownerUserId: other.userId });
  });

  it('concurrent retries with one key append once', async () => {
    const k = key();
    const head = await settledHead(q);
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        q.http.mutation('org.create', { name: 'Racing Inc', plan: 'pro' }, { token: owner.token, idempotencyKey: k }),
      ),
    );
    for (const r of results) expect(r).toEqual(results[0]);
    expect(await eventTypes(results[0].orgId, results[0].position)).toEqual(['organization.created', 'member.joined']);
    // Positions are not consecutive numbers; the head is the one append's last event.
    expect(BigInt(results[0].position)).toBeGreaterThan(head);
    expect(await settledHead(q)).toBe(BigInt(results[0].position));
  });
});

describe('seats.purchase', () => {
  it('the same key twice buys once; a different key buys again; another caller with the same key is independent', async () => {
    const { orgId } = await createOrg(q.http, owner, 'pro');
    const billing = await addMember(q.http, orgId, owner, 'billing');
    const k = key();
    const first = await q.http.mutation(
      'seats.purchase',
      { orgId, quantity: 2 },
      { token: owner.token, idempotencyKey: k },
    );
    const again = await q.http.mutation(
      'seats.purchase',
      { orgId, quantity: 2 },
      { token: owner.token, idempotencyKey: k },
    );
    expect(again.position).toBe(first.position);
    expect(
      await q.http.query('seats.get', { orgId, minPosition: first.position }, { token: owner.token }),
    ).toMatchObject({ purchased: 2 });

    const other = await q.http.mutation(
      'seats.purchase',
      { orgId, quantity: 2 },
      { token: owner.token, idempotencyKey: key() },
    );
    expect(BigInt(other.position)).toBeGreaterThan(BigInt(first.position));
    const byBilling = await q.http.mutation(
      'seats.purchase',
      { orgId, quantity: 2 },
      { token: billing.token, idempotencyKey: k },
    );
    expect(BigInt(byBilling.position)).toBeGreaterThan(BigInt(other.position));
    expect(
      await q.http.query('seats.get', { orgId, minPosition: byBilling.position }, { token: owner.token }),
    ).toMatchObject({ purchased: 6 });
    const types = await eventTypes(orgId, byBilling.position);
    expect(types.filter((t) => t === 'seats.purchased')).toHaveLength(3);
  });

  it('concurrent retries with one key append once', async () => {
    const { orgId } = await createOrg(q.http, owner, 'pro');
    const k = key();
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        q.http.mutation('seats.purchase', { orgId, quantity: 3 }, { token: owner.token, idempotencyKey: k }),
      ),
    );
    for (const r of results) expect(r.position).toBe(results[0].position);
    const seats = await q.http.query('seats.get', { orgId, minPosition: results[0].position }, { token: owner.token });
    expect(seats).toMatchObject({ purchased: 3 });
    expect((await eventTypes(orgId, results[0].position)).filter((t) => t === 'seats.purchased')).toHaveLength(1);
  });
});

describe('one key in two organizations', () => {
  it('creates an invitation, an API key and a meeting in each, with ids of their own', async () => {
    const a = await createOrg(q.http, owner, 'pro');
    const b = await createOrg(q.http, owner, 'pro');
    const k = key();
    const opts = { token: owner.token, idempotencyKey: k };
    const invites = await Promise.all(
      [a, b].map(({ orgId }) =>
        q.http.mutation('members.invite', { orgId, email: uniqueEmail('twice'), role: 'member' }, opts),
      ),
    );
    expect(invites[0].invitationId).not.toBe(invites[1].invitationId);
    const keys = await Promise.all(
      [a, b].map(({ orgId }) => q.http.mutation('apiKeys.create', { orgId, name: 'ci', role: 'member' }, opts)),
    );
    expect(keys[0].key.id).not.toBe(keys[1].key.id);
    for (const { orgId } of [a, b]) {
      await q.http.mutation('seats.purchase', { orgId, quantity: 1 }, { token: owner.token });
      await q.http.mutation('seats.assign', { orgId, userId: owner.userId }, { token: owner.token });
    }
    const meetings = await Promise.all(
      [a, b].map(({ orgId }) => q.http.mutation('meetings.create', { orgId, title: 'Standup' }, opts)),
    );
    expect(meetings[0].sessionId).not.toBe(meetings[1].sessionId);
    for (const [i, { orgId }] of [a, b].entries()) {
      const list = await q.http.query('members.list', { orgId, minPosition: keys[i].position }, { token: owner.token });
      expect(list.invitations.map((v: { invitationId: string }) => v.invitationId)).toEqual([invites[i].invitationId]);
    }
  });
});

describe('members.invite', () => {
  it('the same key twice invites once with the same invitationId; a different key invites again', async () => {
    const { orgId } = await createOrg(q.http, owner, 'pro');
    const email = uniqueEmail('invitee');
    const k = key();
    const first = await q.http.mutation(
      'members.invite',
      { orgId, email, role: 'member' },
      { token: owner.token, idempotencyKey: k },
    );
    const again = await q.http.mutation(
      'members.invite',
      { orgId, email, role: 'member' },
      { token: owner.token, idempotencyKey: k },
    );
    expect(again).toEqual(first);
    let list = await q.http.query('members.list', { orgId, minPosition: first.position }, { token: owner.token });
    expect(list.invitations.map((i: { invitationId: string }) => i.invitationId)).toEqual([first.invitationId]);

    // Without the key, the same invitation is a real second command, refused by the domain.
    const dup = await failure(
      q.http.mutation(
        'members.invite',
        { orgId, email, role: 'member' },
        { token: owner.token, idempotencyKey: key() },
      ),
    );
    expect(dup).toMatchObject({ code: 'CONFLICT', reason: 'members.already_invited' });

    const second = await q.http.mutation(
      'members.invite',
      { orgId, email: uniqueEmail('invitee'), role: 'member' },
      { token: owner.token, idempotencyKey: key() },
    );
    expect(second.invitationId).not.toBe(first.invitationId);
    list = await q.http.query('members.list', { orgId, minPosition: second.position }, { token: owner.token });
    expect(list.invitations).toHaveLength(2);
  });

  it('concurrent retries with one key append once', async () => {
    const { orgId } = await createOrg(q.http, owner, 'pro');
    const email = uniqueEmail('racing');
    const k = key();
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        q.http.mutation('members.invite', { orgId, email, role: 'host' }, { token: owner.token, idempotencyKey: k }),
      ),
    );
    for (const r of results) expect(r).toEqual(results[0]);
    expect((await eventTypes(orgId, results[0].position)).filter((t) => t === 'member.invited')).toHaveLength(1);
  });
});

describe('members.remove', () => {
  it('the same key twice removes once (and frees the seat once) and answers the same position', async () => {
    const { orgId } = await createOrg(q.http, owner, 'pro');
    await q.http.mutation('seats.purchase', { orgId, quantity: 2 }, { token: owner.token });
    const member = await addMember(q.http, orgId, owner, 'member');
    await q.http.mutation('seats.assign', { orgId, userId: member.userId }, { token: owner.token });
    const k = key();
    const first = await q.http.mutation(
      'members.remove',
      { orgId, userId: member.userId },
      { token: owner.token, idempotencyKey: k },
    );
    await eventTypes(orgId, first.position);
    const head = await settledHead(q);
    const again = await q.http.mutation(
      'members.remove',
      { orgId, userId: member.userId },
      { token: owner.token, idempotencyKey: k },
    );
    expect(again).toEqual(first);
    expect(await settledHead(q)).toBe(head);
    const types = await eventTypes(orgId, first.position);
    expect(types.filter((t) => t === 'member.removed')).toHaveLength(1);
    expect(types.filter((t) => t === 'seat.unassigned')).toHaveLength(1);
    expect(
      await q.http.query('seats.get', { orgId, minPosition: first.position }, { token: owner.token }),
    ).toMatchObject({ purchased: 2, assigned: 0 });

    // A new key is a new command: the member is gone.
    const gone = await failure(
      q.http.mutation(
        'members.remove',
        { orgId, userId: member.userId },
        { token: owner.token, idempotencyKey: key() },
      ),
    );
    expect(gone).toMatchObject({ code: 'NOT_FOUND', reason: 'members.not_found' });
  });

  it('concurrent retries with one key remove once', async () => {
    const { orgId } = await createOrg(q.http, owner, 'pro');
    await q.http.mutation('seats.purchase', { orgId, quantity: 1 }, { token: owner.token });
    const member = await addMember(q.http, orgId, owner, 'member');
    await q.http.mutation('seats.assign', { orgId, userId: member.userId }, { token: owner.token });
    const k = key();
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        q.http.mutation('members.remove', { orgId, userId: member.userId }, { token: owner.token, idempotencyKey: k }),
      ),
    );
    for (const r of results) expect(r).toEqual(results[0]);
    const types = await eventTypes(orgId, results[0].position);
    expect(types.filter((t) => t === 'member.removed')).toHaveLength(1);
    expect(types.filter((t) => t === 'seat.unassigned')).toHaveLength(1);
  });
});
