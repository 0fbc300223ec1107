/**
 * Read your writes: every mutation answers `position`; the matching query given it as
 * `minPosition` already shows the change, with no sleeping in between. A position the
 * projection will not reach in time answers TIMEOUT within the configured bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../support/http-client';
import { invitationToken, PASSWORD, signUp, uniqueEmail, type TestUser } from '../support/people';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

// Every read with minPosition in this file must see append → relay → NATS → projector within it,
// on a machine that may be busy: a short wait here fails on a stall, not on a bug.
const READ_WAIT_TIMEOUT_MS = 1_500;

let q: TestQuorum;
let owner: TestUser;

beforeAll(async () => {
  q = await startTestQuorum('ryw', { READ_WAIT_TIMEOUT_MS: String(READ_WAIT_TIMEOUT_MS) });
  owner = await signUp(q.http, 'owner');
});

afterAll(async () => {
  await q?.stop();
});

describe('each mutation is visible to the next query at its position', () => {
  it('org, members, seats, API keys and the event log', async () => {
    const asOwner = { token: owner.token };
    const read = (
      path: string,
      input: Record<string, unknown>,
      minPosition: string,
      creds: { token: string } = asOwner,
    ) => q.http.query(path, { ...input, minPosition }, creds);

    const created = await q.http.mutation('org.create', { name: 'Visible Ltd', plan: 'pro' }, asOwner);
    const orgId = created.orgId as string;
    expect(await read('org.get', { orgId }, created.position)).toMatchObject({
      orgId,
      name: 'Visible Ltd',
      plan: 'pro',
      yourRole: 'owner',
    });
    expect((await read('org.list', {}, created.position)).map((o: { orgId: string }) => o.orgId)).toContain(orgId);
    expect(await read('apiKeys.list', { orgId }, created.position)).toEqual([]);

    const plan = await q.http.mutation('org.changePlan', { orgId, plan: 'business' }, asOwner);
    expect(await read('org.get', { orgId }, plan.position)).toMatchObject({
      plan: 'business',
      entitlements: { maxSeats: 250 },
    });

    const bought = await q.http.mutation('seats.purchase', { orgId, quantity: 4 }, asOwner);
    expect(await read('seats.get', { orgId }, bought.position)).toMatchObject({
      purchased: 4,
      assigned: 0,
      free: 4,
      planCap: 250,
    });

    const released = await q.http.mutation('seats.release', { orgId, quantity: 1 }, asOwner);
    expect(await read('seats.get', { orgId }, released.position)).toMatchObject({ purchased: 3, free: 3 });

    const email = uniqueEmail('member');
    const invited = await q.http.mutation('members.invite', { orgId, email, role: 'member' }, asOwner);
    expect((await read('members.list', { orgId }, invited.position)).invitations).toEqual([
      expect.objectContaining({ invitationId: invited.invitationId, email, role: 'member' }),
    ]);

    const member = await q.http.mutation('auth.signUp', { email, password: PASSWORD, name: 'Member' });
    const accepted = await q.http.mutation(
      'members.accept',
      { orgId, invitationId: invited.invitationId, token: invitationToken(invited) },
      { token: member.accessToken },
    );
    const afterAccept = await read('members.list', { orgId }, accepted.position);
    expect(afterAccept.invitations).toEqual([]);
    expect(afterAccept.members).toContainEqual(
      expect.objectContaining({ userId: member.user.id, role: 'member', hasSeat: false }),
    );
    // The new member's own first query, at the accept's position, already sees their membership.
    expect(await read('org.get', { orgId }, accepted.position, { token: member.accessToken })).toMatchObject({
      yourRole: 'member',
    });

    const promoted = await q.http.mutation(
      'members.changeRole',
      { orgId, userId: member.user.id, role: 'host' },
      asOwner,
    );
    expect((await read('members.list', { orgId }, promoted.position)).members).toContainEqual(
      expect.objectContaining({ userId: member.user.id, role: 'host' }),
    );

    const assigned = await q.http.mutation('seats.assign', { orgId, userId: member.user.id }, asOwner);
    const seats = await read('seats.get', { orgId }, assigned.position);
    expect(seats).toMatchObject({ assigned: 1, free: 2 });
    expect(seats.assignments).toEqual([expect.objectContaining({ userId: member.user.id, email })]);
    // A member reads the seats too (the role and the seats come from one statement).
    expect(await read('seats.get', { orgId }, assigned.position, { token: member.accessToken })).toMatchObject({
      assigned: 1,
    });

    const unassigned = await q.http.mutation('seats.unassign', { orgId, userId: member.user.id }, asOwner);
    expect(await read('seats.get', { orgId }, unassigned.position)).toMatchObject({ assigned: 0, assignments: [] });

    const removed = await q.http.mutation('members.remove', { orgId, userId: member.user.id }, asOwner);
    expect(
      (await read('members.list', { orgId }, removed.position)).members.map((m: { userId: string }) => m.userId),
    ).toEqual([owner.userId]);
    // The removed member no longer sees the organization.
    expect(await failure(read('org.get', { orgId }, removed.position, { token: member.accessToken }))).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await failure(read('seats.get', { orgId }, removed.position, { token: member.accessToken }))).toMatchObject({
      code: 'NOT_FOUND',
    });

    const log = await read('events.list', { orgId, order: 'desc', limit: 1 }, removed.position);
    expect(log.events).toEqual([expect.objectContaining({ type: 'member.removed', position: removed.position })]);
  });
});

describe('bounded waiting', () => {
  it(`a minPosition far ahead answers TIMEOUT within ${READ_WAIT_TIMEOUT_MS} ms, and says so`, async () => {
    const { orgId, position } = await q.http.mutation(
      'org.create',
      { name: 'Future Co', plan: 'pro' },
      { token: owner.token },
    );
    await q.http.query('org.get', { orgId, minPosition: position }, { token: owner.token });
    const ahead = ((await q.app.store.headPosition()) + (1n << 40n)).toString();
    for (const path of ['org.get', 'seats.get', 'members.list', 'events.list']) {
      const started = performance.now();
      const f = await failure(q.http.query(path, { orgId, minPosition: ahead }, { token: owner.token }));
      const took = performance.now() - started;
      expect(f, path).toMatchObject({ status: 408, code: 'TIMEOUT' });
      expect(f.message).toContain(ahead);
      expect(f.message).toContain(`${READ_WAIT_TIMEOUT_MS} ms`);
      expect(took, path).toBeGreaterThanOrEqual(READ_WAIT_TIMEOUT_MS - 20);
      expect(took, path).toBeLessThan(READ_WAIT_TIMEOUT_MS + 3_000);
    }
  });
});

describe('health', () => {
  it('GET /health is 200', async () => {
    const res = await fetch(`${q.baseUrl}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /health/ready is 200 with database, event store, projector and relay ok', async () => {
    const res = await fetch(`${q.baseUrl}/health/ready`);
    expect(res.status).toBe(200);
    const report = (await res.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> };
    expect(report.ready).toBe(true);
    for (const check of ['database', 'eventStore', 'projector', 'relay'])
      expect(report.checks[check], check).toMatchObject({ ok: true });
  });
});
