/**
 * API keys do not outlive their maker's rights (issue: security probe, finding 4). Before, a key
 * made by an admin later demoted to member still invited an admin and made keys, and a key made
 * by a key kept working after its maker was revoked. Now a key's rights are its role's capped by
 * its maker's current rights, and revoking a key or removing a member revokes the keys they
 * made, on the list, in the event log and on open sockets. Real Postgres and NATS.
 */
import type { AppRouter } from '@quorum/gateway/router';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { eventually } from '../support/eventually';
import { failure } from '../support/http-client';
import { addMember, createOrg, signUp, uniqueEmail, type TestUser } from '../support/people';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;
let owner: TestUser;
const sockets: Array<ReturnType<typeof createWSClient>> = [];

async function makeKey(orgId: string, as: { token?: string; apiKey?: string }, role: string) {
  const made = await q.http.mutation('apiKeys.create', { orgId, name: `key ${role}`, role }, as);
  return { keyId: made.key.id as string, secret: made.secret as string, position: made.position as string };
}

beforeAll(async () => {
  q = await startTestQuorum('keyrights');
  owner = await signUp(q.http, 'owner');
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await q?.stop();
});

describe('an API key', () => {
  it('loses what its maker loses: a key made by an admin demoted to member cannot invite or make keys', async () => {
    const { orgId } = await createOrg(q.http, owner);
    const admin = await addMember(q.http, orgId, owner, 'admin', 'admin');
    const key = await makeKey(orgId, { token: admin.token }, 'admin');
    expect(
      (
        await q.http.mutation(
          'members.invite',
          { orgId, email: uniqueEmail('ok'), role: 'member' },
          { apiKey: key.secret },
        )
      ).invitationId,
    ).toBeDefined();

    await q.http.mutation(
      'members.changeRole',
      { orgId, userId: admin.userId, role: 'member' },
      { token: owner.token },
    );
    const head = await settledHead(q);
    expect(
      await failure(
        q.http.mutation(
          'members.invite',
          { orgId, email: uniqueEmail('escalate'), role: 'admin' },
          { apiKey: key.secret },
        ),
      ),
    ).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
      reason: 'api_keys.capped_by_maker',
    });
    expect(
      (
        await failure(
          q.http.mutation('apiKeys.create', { orgId, name: 'child', role: 'admin' }, { apiKey: key.secret }),
        )
      ).code,
    ).toBe('FORBIDDEN');
    expect((await failure(q.http.query('apiKeys.list', { orgId }, { apiKey: key.secret }))).code).toBe('FORBIDDEN');
    expect(await settledHead(q)).toBe(head);
    // What a member may do, it still may.
    expect(await q.http.query('org.get', { orgId }, { apiKey: key.secret })).toMatchObject({ orgId });
  });

  it('made by an admin with a billing role cannot spend: the admin may not', async () => {
    const { orgId } = await createOrg(q.http, owner);
    const admin = await addMember(q.http, orgId, owner, 'admin', 'admin2');
    const key = await makeKey(orgId, { token: admin.token }, 'billing');
    expect(
      await failure(q.http.mutation('seats.purchase', { orgId, quantity: 1 }, { apiKey: key.secret })),
    ).toMatchObject({ code: 'FORBIDDEN', reason: 'api_keys.capped_by_maker' });
    expect((await q.http.query('events.list', { orgId }, { apiKey: key.secret })).events.length).toBeGreaterThan(0);
    // The same role made by the owner spends.
    const ownerKey = await makeKey(orgId, { token: owner.token }, 'billing');
    expect(
      (await q.http.mutation('seats.purchase', { orgId, quantity: 1 }, { apiKey: ownerKey.secret })).position,
    ).toBeDefined();
  });

  it('made by a key is revoked with it, down the chain: refused, listed revoked, its socket closed', async () => {
    const { orgId } = await createOrg(q.http, owner);
    const parent = await makeKey(orgId, { token: owner.token }, 'admin');
    const child = await makeKey(orgId, { apiKey: parent.secret }, 'admin');
    const grandchild = await makeKey(orgId, { apiKey: child.secret }, 'member');
    const closes: Array<number | undefined> = [];
    const ws = createWSClient({
      url: `ws://127.0.0.1:${q.app.port}/trpc`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: { apiKey: grandchild.secret },
      retryDelayMs: () => 600_000,
      onClose: (cause) => closes.push(cause?.code),
    });
    sockets.push(ws);
    const trpc = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
    // Read its own writes: on a busy machine the organization's row may not be projected yet.
    expect(await trpc.org.get.query({ orgId, minPosition: grandchild.position })).toMatchObject({
      orgId,
      yourRole: 'member',
    });

    const revoked = await q.http.mutation('apiKeys.revoke', { orgId, keyId: parent.keyId }, { token: owner.token });
    for (const key of [parent, child, grandchild]) {
      expect((await failure(q.http.query('org.get', { orgId }, { apiKey: key.secret }))).code, key.keyId).toBe(
        'UNAUTHORIZED',
      );
    }
    await eventually(() => expect(closes).toEqual([4401]));
    const listed = await q.http.query('apiKeys.list', { orgId, minPosition: revoked.position }, { token: owner.token });
    const revokedIds = listed
      .filter((k: { revokedAt: string | null }) => k.revokedAt !== null)
      .map((k: { id: string }) => k.id)
      .sort();
    expect(revokedIds).toEqual([parent.keyId, child.keyId, grandchild.keyId].sort());
    const events = await q.http.query(
      'events.list',
      { orgId, types: ['api_key.revoked'], minPosition: revoked.position },
      { token: owner.token },
    );
    expect(events.events.map((e: { data: { keyId: string } }) => e.data.keyId).sort()).toEqual(
      [parent.keyId, child.keyId, grandchild.keyId].sort(),
    );
  });

  it('made by a member who is removed is revoked with them', async () => {
    const { orgId } = await createOrg(q.http, owner);
    const admin = await addMember(q.http, orgId, owner, 'admin', 'leaving-admin');
    const key = await makeKey(orgId, { token: admin.token }, 'admin');
    const child = await makeKey(orgId, { apiKey: key.secret }, 'member');
    const removed = await q.http.mutation('members.remove', { orgId, userId: admin.userId }, { token: owner.token });
    for (const k of [key, child])
      expect((await failure(q.http.query('org.get', { orgId }, { apiKey: k.secret }))).code).toBe('UNAUTHORIZED');
    const listed = await q.http.query('apiKeys.list', { orgId, minPosition: removed.position }, { token: owner.token });
    expect(listed.every((k: { revokedAt: string | null }) => k.revokedAt !== null)).toBe(true);
  });
});
