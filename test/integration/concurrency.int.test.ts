/**
 * Conflicting commands at the same time: two admins assigning the last seat end with exactly
 * one success and one clear refusal, never an over-assigned organization; non-conflicting
 * commands racing on one stream all succeed through the gateway's conflict retry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrpcCallError } from '../support/http-client';
import { createOrg, join, signUp, uniqueEmail, type TestUser } from '../support/people';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

const ROUNDS = 20;
const SEATS = 3;

let q: TestQuorum;
let owner: TestUser;
let admins: [TestUser, TestUser];
let targets: [TestUser, TestUser];
let holder: TestUser;

beforeAll(async () => {
  q = await startTestQuorum('concurrency');
  owner = await signUp(q.http, 'owner');
  admins = [await signUp(q.http, 'admin-a'), await signUp(q.http, 'admin-b')];
  targets = [await signUp(q.http, 'target-a'), await signUp(q.http, 'target-b')];
  holder = await signUp(q.http, 'holder');
});

afterAll(async () => {
  await q?.stop();
});

/** A fresh org with SEATS seats, all assigned but one, two admins and two seatless members. */
async function orgWithOneFreeSeat(): Promise<string> {
  const { orgId } = await createOrg(q.http, owner, 'pro');
  const asOwner = { token: owner.token };
  await q.http.mutation('seats.purchase', { orgId, quantity: SEATS }, asOwner);
  for (const a of admins) await join(q.http, orgId, asOwner, a, 'admin');
  for (const t of targets) await join(q.http, orgId, asOwner, t, 'member');
  await join(q.http, orgId, asOwner, holder, 'member');
  // SEATS - 1 seats taken: the owner, then the holder (and more holders if SEATS grows).
  await q.http.mutation('seats.assign', { orgId, userId: owner.userId }, asOwner);
  await q.http.mutation('seats.assign', { orgId, userId: holder.userId }, asOwner);
  return orgId;
}

describe('two admins assign the last seat at the same time', () => {
  it(`exactly one wins, ${ROUNDS} rounds on fresh organizations`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const orgId = await orgWithOneFreeSeat();
      const results = await Promise.allSettled(
        [0, 1].map((i) =>
          q.http.mutation('seats.assign', { orgId, userId: targets[i]!.userId }, { token: admins[i]!.token }),
        ),
      );
      const won = results.flatMap((r, i) =>
        r.status === 'fulfilled' ? [{ i, position: (r.value as { position: string }).position }] : [],
      );
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(won, `round ${round}`).toHaveLength(1);
      expect(lost, `round ${round}`).toHaveLength(1);
      const refusal = lost[0];
      expect(refusal, `round ${round}`).toBeInstanceOf(TrpcCallError);
      const f = (refusal as TrpcCallError).failure;
      expect(['CONFLICT', 'PRECONDITION_FAILED'], `round ${round}: ${f.code} ${f.message}`).toContain(f.code);
      expect(['seats.no_free_seat', 'command.conflict'], `round ${round}`).toContain(f.reason);
      expect(f.status).toBe(f.code === 'CONFLICT' ? 409 : 412);
      expect(f.message).toMatch(/no free seat|at the same time/i);

      const winner = won[0]!;
      const seats = await q.http.query('seats.get', { orgId, minPosition: winner.position }, { token: owner.token });
      expect(seats).toMatchObject({ purchased: SEATS, assigned: SEATS, free: 0 });
      const holders = seats.assignments.map((a: { userId: string }) => a.userId).sort();
      expect(holders).toEqual([owner.userId, holder.userId, targets[winner.i]!.userId].sort());
    }
  });
});

describe('concurrent commands that do not conflict', () => {
  // One round rarely exposes a too-short retry; five rounds did, every time, before the fix.
  it('10 concurrent invitations of distinct emails all succeed (5 rounds)', async () => {
    for (let round = 0; round < 5; round++) {
      const { orgId } = await createOrg(q.http, owner, 'pro');
      const emails = Array.from({ length: 10 }, (_, i) => uniqueEmail(`bulk-${i}`));
      const results = await Promise.allSettled(
        emails.map((email) =>
          q.http.mutation('members.invite', { orgId, email, role: 'member' }, { token: owner.token }),
        ),
      );
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
      expect(failures, `round ${round}`).toEqual([]);
      const positions = results.map((r) => BigInt((r as PromiseFulfilledResult<{ position: string }>).value.position));
      expect(new Set(positions).size).toBe(10);
      const last = positions.reduce((a, b) => (a > b ? a : b));
      const list = await q.http.query('members.list', { orgId, minPosition: last.toString() }, { token: owner.token });
      expect(list.invitations.map((i: { email: string }) => i.email).sort()).toEqual([...emails].sort());
    }
  });

  it('two admins inviting at the same time as the owner buys seats: every command lands once', async () => {
    const orgId = await orgWithOneFreeSeat();
    const emails = Array.from({ length: 6 }, (_, i) => uniqueEmail(`mixed-${i}`));
    const calls = [
      ...emails.map((email, i) =>
        q.http.mutation('members.invite', { orgId, email, role: 'member' }, { token: admins[i % 2]!.token }),
      ),
      ...[1, 2, 3].map(() => q.http.mutation('seats.purchase', { orgId, quantity: 1 }, { token: owner.token })),
    ];
    const results = (await Promise.all(calls)) as Array<{ position: string }>;
    const last = results.map((r) => BigInt(r.position)).reduce((a, b) => (a > b ? a : b));
    const seats = await q.http.query('seats.get', { orgId, minPosition: last.toString() }, { token: owner.token });
    expect(seats.purchased).toBe(SEATS + 3);
    const list = await q.http.query('members.list', { orgId, minPosition: last.toString() }, { token: owner.token });
    expect(list.invitations).toHaveLength(emails.length);
  });
});
