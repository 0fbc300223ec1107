/**
 * Access ends when it is taken away, on every transport and every gateway (issue: security
 * probe, findings 2 and 5). A revoked API key, an ended login and an expired access token stop
 * working on the next call, over HTTP and over an already open WebSocket; open sockets are
 * closed and live feeds (`events.live`, over WebSocket and server-sent events) end within
 * seconds, including on a second gateway that shares only the database with the one where the
 * change was made. A removed member's live feed ends too.
 *
 * Real Postgres and NATS (startTestQuorum); the second gateway is a real gateway on its own port
 * over the same database, with its own memory of revocations, as a second process would have.
 */
import { createGateway, type Gateway } from '@quorum/gateway/gateway';
import type { AppRouter } from '@quorum/gateway/router';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { eventually } from '../support/eventually';
import { createHttpClient, failure, type CallOptions } from '../support/http-client';
import { followSubscription, type FollowedSubscription } from '../support/subscription-client';
import { addMember, createOrg, PASSWORD, signUp, type TestUser } from '../support/people';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';

/** Access tokens issued by the second gateway live this long, so the suite can watch one expire. */
const SHORT_TTL_SECONDS = 3;

let q: TestQuorum;
let second: Gateway;
let secondUrl: string;
let secondHttp: ReturnType<typeof createHttpClient>;
let owner: TestUser;
const sockets: Array<ReturnType<typeof createWSClient>> = [];
const feeds: FollowedSubscription[] = [];

/** A tRPC WebSocket client that records how its socket closed, and does not reconnect during the test. */
function wsClient(baseUrl: string, connectionParams: Record<string, string>) {
  const closes: Array<number | undefined> = [];
  const ws = createWSClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/trpc`,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams,
    retryDelayMs: () => 600_000,
    onClose: (cause) => closes.push(cause?.code),
  });
  sockets.push(ws);
  return { trpc: createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] }), closes };
}

/** `events.live` over WebSocket: what arrived, and how it ended. */
function liveOverWs(trpc: ReturnType<typeof wsClient>['trpc'], orgId: string) {
  const feed = { data: [] as unknown[], started: false, ended: undefined as undefined | { code: string | undefined } };
  const sub = trpc.events.live.subscribe(
    { orgId },
    {
      onStarted: () => (feed.started = true),
      onData: (d) => feed.data.push(d),
      onError: (err) => (feed.ended = { code: err.data?.code }),
      onComplete: () => (feed.ended ??= { code: undefined }),
    },
  );
  return { feed, stop: () => sub.unsubscribe() };
}

/** `events.live` over server-sent events with plain fetch: what arrived, and how it ended. */
async function liveOverSse(baseUrl: string, orgId: string, credential: CallOptions) {
  const feed = await followSubscription(baseUrl, 'events.live', { orgId }, credential);
  feeds.push(feed);
  return feed;
}

async function login(http: ReturnType<typeof createHttpClient>, user: TestUser) {
  const s = await http.mutation('auth.login', { email: user.email, password: PASSWORD });
  return { token: s.accessToken as string, refreshToken: s.refreshToken as string };
}

beforeAll(async () => {
  q = await startTestQuorum('revocation');
  second = await createGateway({
    sql: q.app.sql,
    store: q.app.store,
    logger: pino({ level: 'warn' }),
    authSecret: q.env.AUTH_SECRET!,
    mailer: q.app.gateway.deps.mailer,
    accessTokenTtlSeconds: SHORT_TTL_SECONDS,
    waitForPosition: q.app.gateway.deps.waitForPosition,
  });
  const { port } = await second.http.listen(0, '127.0.0.1');
  secondUrl = `http://127.0.0.1:${port}`;
  secondHttp = createHttpClient(secondUrl);
  owner = await signUp(q.http, 'owner');
}, 60_000);

afterAll(async () => {
  for (const f of feeds) f.stop();
  for (const s of sockets) s.close();
  await second?.http.close();
  await q?.stop();
});

describe('a revoked API key', () => {
  it('is refused at once on the gateway that revoked it, even over a socket opened before', async () => {
    const { orgId, position } = await createOrg(q.http, owner);
    const { keyId, secret } = await q.http
      .mutation('apiKeys.create', { orgId, name: 'ws admin', role: 'admin' }, { token: owner.token })
      .then((r) => ({ keyId: r.key.id as string, secret: r.secret as string }));
    const { trpc, closes } = wsClient(q.baseUrl, { apiKey: secret });
    expect(await trpc.org.get.query({ orgId, minPosition: position })).toMatchObject({ orgId, yourRole: 'admin' });

    await q.http.mutation('apiKeys.revoke', { orgId, keyId }, { token: owner.token });
    const head = await settledHead(q);
    // Whatever the socket still sends: refused, or the socket is already closed; nothing is appended.
    const attempt = await Promise.race([
      trpc.members.invite.mutate({ orgId, email: 'mallory@example.com', role: 'admin' }).then(
        () => 'succeeded',
        (err: { data?: { code?: string } }) => err.data?.code ?? 'closed',
      ),
      eventually(() => expect(closes).toHaveLength(1)).then(() => 'closed'),
    ]);
    expect(['UNAUTHORIZED', 'closed']).toContain(attempt);
    await eventually(() => expect(closes).toEqual([4401]));
    expect(await settledHead(q)).toBe(head);
    // Over HTTP too.
    expect((await failure(q.http.query('org.get', { orgId }, { apiKey: secret }))).code).toBe('UNAUTHORIZED');
  });

  it('on another gateway: its open socket is closed and its live feeds end within seconds, over WebSocket and SSE', async () => {
    const { orgId, position } = await createOrg(q.http, owner);
    const created = await q.http.mutation(
      'apiKeys.create',
      { orgId, name: 'integrator', role: 'admin' },
      { token: owner.token },
    );
    const secret = created.secret as string;
    await secondHttp.query('org.get', { orgId, minPosition: position }, { apiKey: secret });

    const { trpc, closes } = wsClient(secondUrl, { apiKey: secret });
    const ws = liveOverWs(trpc, orgId);
    await eventually(() => expect(ws.feed.started).toBe(true));
    const sse = await liveOverSse(secondUrl, orgId, { apiKey: secret });
    // Both feeds are live: an event arrives on each.
    const bought = await q.http.mutation('seats.purchase', { orgId, quantity: 1 }, { token: owner.token });
    await eventually(() => {
      expect(ws.feed.data.length).toBeGreaterThan(0);
      expect(sse.data.length).toBeGreaterThan(0);
    });
    expect(bought.position).toBeDefined();

    await q.http.mutation('apiKeys.revoke', { orgId, keyId: created.key.id }, { token: owner.token });
    await eventually(() => {
      expect(closes).toEqual([4401]);
      expect(sse.ended).toEqual({ code: 'UNAUTHORIZED' });
    }, 10_000);
    expect((await failure(secondHttp.query('org.get', { orgId }, { apiKey: secret }))).code).toBe('UNAUTHORIZED');
  });
});

describe('an access token', () => {
  it('that expired is refused over a socket opened while it was valid, and the socket and its feeds end at its expiry', async () => {
    const { orgId, position } = await createOrg(q.http, owner);
    // Issued by the second gateway: it lives SHORT_TTL_SECONDS.
    const { token } = await login(secondHttp, owner);
    const { trpc, closes } = wsClient(q.baseUrl, { token });
    expect(await trpc.auth.me.query({})).toMatchObject({ id: owner.userId });
    const ws = liveOverWs(trpc, orgId);
    await eventually(() => expect(ws.feed.started).toBe(true));
    const sse = await liveOverSse(q.baseUrl, orgId, { token });
    await q.http.query('org.get', { orgId, minPosition: position }, { token });

    await eventually(
      () => {
        expect(closes).toEqual([4401]);
        expect(sse.ended).toEqual({ code: 'UNAUTHORIZED' });
      },
      (SHORT_TTL_SECONDS + 5) * 1000,
    );
    const reason = (await failure(q.http.query('auth.me', {}, { token }))).code;
    expect(reason).toBe('UNAUTHORIZED');
    // A new socket with it is refused as well.
    const again = wsClient(q.baseUrl, { token });
    const refused = await again.trpc.auth.me.query({}).then(
      () => 'succeeded',
      (err: { data?: { code?: string } }) => err.data?.code,
    );
    expect(refused).toBe('UNAUTHORIZED');
  });

  it('of a login that was logged out is refused on the next call, on every gateway, and its socket is closed', async () => {
    const { token, refreshToken } = await login(q.http, owner);
    const { trpc, closes } = wsClient(secondUrl, { token });
    expect(await trpc.auth.me.query({})).toMatchObject({ id: owner.userId });
    expect(await secondHttp.query('auth.me', {}, { token })).toMatchObject({ id: owner.userId });

    await q.http.mutation('auth.logout', { refreshToken });
    // The gateway that logged out refuses it on the very next call ...
    expect(await failure(q.http.query('auth.me', {}, { token }))).toMatchObject({
      code: 'UNAUTHORIZED',
      reason: 'auth.session_revoked',
    });
    // ... and the other one within its poll of the shared log.
    await eventually(async () =>
      expect(await failure(secondHttp.query('auth.me', {}, { token }))).toMatchObject({
        code: 'UNAUTHORIZED',
        reason: 'auth.session_revoked',
      }),
    );
    await eventually(() => expect(closes).toEqual([4401]));
  });

  it('logging out with only the access token ends its login too', async () => {
    const { token, refreshToken } = await login(q.http, owner);
    await q.http.mutation('auth.logout', {}, { token });
    expect(await failure(q.http.query('auth.me', {}, { token }))).toMatchObject({
      code: 'UNAUTHORIZED',
      reason: 'auth.session_revoked',
    });
    expect((await failure(q.http.mutation('auth.refresh', { refreshToken }))).code).toBe('UNAUTHORIZED');
  });

  it('of a login ended by a refresh token used twice is refused on the next call', async () => {
    const first = await login(q.http, owner);
    const renewed = await q.http.mutation('auth.refresh', { refreshToken: first.refreshToken });
    expect(await q.http.query('auth.me', {}, { token: renewed.accessToken })).toMatchObject({ id: owner.userId });
    // The old refresh token again: the whole login ends, the renewed access token with it.
    expect(await failure(q.http.mutation('auth.refresh', { refreshToken: first.refreshToken }))).toMatchObject({
      reason: 'auth.refresh_token_reused',
    });
    expect(await failure(q.http.query('auth.me', {}, { token: renewed.accessToken }))).toMatchObject({
      code: 'UNAUTHORIZED',
      reason: 'auth.session_revoked',
    });
    expect(await failure(q.http.query('auth.me', {}, { token: first.token }))).toMatchObject({
      code: 'UNAUTHORIZED',
      reason: 'auth.session_revoked',
    });
  });

  it('with anything appended to its signature is refused', async () => {
    const { token } = await login(q.http, owner);
    for (const forged of [
      `${token}==`,
      `${token}=`,
      `${token}A`,
      `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
    ]) {
      expect((await failure(q.http.query('auth.me', {}, { token: forged }))).code).toBe('UNAUTHORIZED');
    }
  });
});

describe('a member removed', () => {
  it('loses their live feeds within seconds, over WebSocket and SSE', async () => {
    const { orgId } = await createOrg(q.http, owner);
    const member = await addMember(q.http, orgId, owner, 'admin', 'leaving');
    const { trpc } = wsClient(secondUrl, { token: member.token });
    const ws = liveOverWs(trpc, orgId);
    await eventually(() => expect(ws.feed.started).toBe(true));
    const sse = await liveOverSse(secondUrl, orgId, { token: member.token });

    await q.http.mutation('members.remove', { orgId, userId: member.userId }, { token: owner.token });
    await eventually(() => {
      expect(ws.feed.ended).toEqual({ code: 'NOT_FOUND' });
      expect(sse.ended).toEqual({ code: 'NOT_FOUND' });
    }, 10_000);
  });
});

describe('batches', () => {
  it('of more than 50 calls are refused whole, over HTTP and WebSocket', async () => {
    const { orgId, position } = await createOrg(q.http, owner);
    const calls = (n: number) => Array.from({ length: n }, () => 'seats.purchase').join(',');
    const body = (n: number) =>
      JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), { orgId, quantity: 1 }])));
    const post = (n: number) =>
      fetch(`${q.baseUrl}/trpc/${calls(n)}?batch=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
        body: body(n),
      });

    const head = await settledHead(q);
    const refused = await post(51);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('Batch call exceeds maximum size');
    expect(await settledHead(q)).toBe(head);
    const seats = await q.http.query('seats.get', { orgId, minPosition: position }, { token: owner.token });
    expect(seats.purchased).toBe(0);

    const allowed = await fetch(`${q.baseUrl}/trpc/${Array.from({ length: 50 }, () => 'auth.me').join(',')}?batch=1`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(allowed.status).toBe(200);
    expect((await allowed.json()) as unknown[]).toHaveLength(50);

    // Over WebSocket: one message holding 51 calls.
    const socket = new WebSocket(`${q.baseUrl.replace(/^http/, 'ws')}/trpc`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const answer = new Promise<string>((resolve) => socket.once('message', (m) => resolve(String(m))));
    socket.send(
      JSON.stringify(
        Array.from({ length: 51 }, (_, id) => ({ id, method: 'query', params: { path: 'auth.me', input: {} } })),
      ),
    );
    expect(await answer).toContain('BAD_REQUEST');
    socket.close();
  });
});
