/**
 * The same router over WebSocket at `/trpc`, through the typed tRPC client: credentials ride
 * in `connectionParams` (browsers cannot set headers on a WebSocket).
 */
import type { AppRouter } from '@quorum/gateway/router';
import { createTRPCClient, createWSClient, TRPCClientError, wsLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createOrg, signUp, type TestUser } from '../support/people';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;
let owner: TestUser;
const clients: Array<ReturnType<typeof createWSClient>> = [];

function wsClient(connectionParams: Record<string, string> | null) {
  const ws = createWSClient({
    url: `ws://127.0.0.1:${q.app.port}/trpc`,
    // Node 20 has no global WebSocket.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    ...(connectionParams ? { connectionParams } : {}),
  });
  clients.push(ws);
  return createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
}

beforeAll(async () => {
  q = await startTestQuorum('ws');
  owner = await signUp(q.http, 'owner');
});

afterAll(async () => {
  for (const c of clients) c.close();
  await q?.stop();
});

describe('tRPC over WebSocket', () => {
  it('a query and mutations work with a token in connectionParams', async () => {
    const trpc = wsClient({ token: owner.token });
    expect(await trpc.auth.me.query({})).toMatchObject({ id: owner.userId, email: owner.email });

    const created = await trpc.org.create.mutate({ name: 'Socket Co', plan: 'pro' });
    const bought = await trpc.seats.purchase.mutate({ orgId: created.orgId, quantity: 2 });
    expect(BigInt(bought.position)).toBeGreaterThan(BigInt(created.position));
    const seats = await trpc.seats.get.query({ orgId: created.orgId, minPosition: bought.position });
    expect(seats).toMatchObject({ purchased: 2, assigned: 0, plan: 'pro' });
    // The same facts over HTTP.
    expect(
      await q.http.query('seats.get', { orgId: created.orgId, minPosition: bought.position }, { token: owner.token }),
    ).toEqual(seats);
  });

  it('an API key in connectionParams works for its organization', async () => {
    const { orgId, position } = await createOrg(q.http, owner, 'pro');
    const { secret } = await q.http.mutation(
      'apiKeys.create',
      { orgId, name: 'ws', role: 'member' },
      { token: owner.token },
    );
    const trpc = wsClient({ apiKey: secret });
    expect(await trpc.org.get.query({ orgId, minPosition: position })).toMatchObject({ orgId, yourRole: 'member' });
  });

  it('without a token an org-scoped query is UNAUTHORIZED, and bad input is BAD_REQUEST', async () => {
    const { orgId, position } = await createOrg(q.http, owner, 'pro');
    const anonymous = wsClient(null);
    const err = await anonymous.org.get.query({ orgId, minPosition: position }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TRPCClientError);
    expect((err as TRPCClientError<AppRouter>).data?.code).toBe('UNAUTHORIZED');

    const trpc = wsClient({ token: owner.token });
    const bad = await trpc.seats.purchase.mutate({ orgId, quantity: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((bad as TRPCClientError<AppRouter>).data?.code).toBe('BAD_REQUEST');
    expect((bad as TRPCClientError<AppRouter>).message).toContain('quantity');
  });
});
