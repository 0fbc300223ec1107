/**
 * Browser-facing hardening (issue: security probe, findings 7, 8 and 9):
 *
 * - every answer carries the browser security headers (a Content-Security-Policy the web app
 *   lives within, nosniff, no referrer, no framing), HSTS only over https, and source maps
 *   are not served;
 * - bad input is a 400 with a reason and changes nothing, never a 500: NUL bytes and lone UTF-16
 *   surrogates in names and titles (PostgreSQL refuses NUL in text), event positions past the
 *   largest bigint, undecodable static paths, and a display name the SFU would have reported
 *   to the gateway only to fail there;
 * - `x-request-id` is taken only when short and printable; a browser on another site can neither
 *   open a `/trpc` WebSocket nor log someone out with a form; behind a proxy trusted with
 *   `TRUST_PROXY`, `X-Forwarded-Proto: https` makes cookies `Secure` and turns HSTS on, and
 *   without it the header means nothing.
 *
 * Real Postgres, NATS and a mediasoup worker (startTestQuorum), over plain HTTP and WebSocket as a
 * browser or an attacker's page would send them. The web app served here is a stand-in directory
 * (an app shell, a script and its source map), so the suite does not depend on a build.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryMailer } from '@quorum/mail';
import { SignalingClient, SignalingRequestError } from '@quorum/sfu/signaling/testing';
import { signJoinToken } from '@quorum/signaling/tokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { failure } from '../support/http-client';
import { createMeeting, serviceToken } from '../support/meetings';
import { createOrg, meetingCast, PASSWORD, signUp, uniqueEmail, type TestUser } from '../support/people';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';

const SCRIPT = 'console.log("quorum");\n//# sourceMappingURL=app.js.map\n';
const SOURCE_MAP = JSON.stringify({ version: 3, sources: ['../src/secret-internals.ts'], mappings: '' });
const CROSS_SITE = 'https://evil.example';

let q: TestQuorum;
/** A Quorum that trusts the proxy in front of it (`TRUST_PROXY=true`). */
let proxied: TestQuorum;
let webDir: string;
let owner: TestUser;
/** An organization of `owner`, projected, where the owner holds a seat (so may host meetings). */
let orgId: string;

beforeAll(async () => {
  webDir = await mkdtemp(join(tmpdir(), 'quorum-web-'));
  await mkdir(join(webDir, 'assets'));
  await writeFile(
    join(webDir, 'index.html'),
    '<!doctype html><title>Quorum</title><script type="module" src="/assets/app.js"></script>',
  );
  await writeFile(join(webDir, 'assets', 'app.js'), SCRIPT);
  await writeFile(join(webDir, 'assets', 'app.js.map'), SOURCE_MAP);
  q = await startTestQuorum('hardening', { WEB_DIST: webDir });
  proxied = await startTestQuorum('hardeningproxy', { WEB_DIST: webDir, TRUST_PROXY: 'true', SFU: 'off' });
  owner = await signUp(q.http, 'owner');
  ({ orgId } = await createOrg(q.http, owner));
  await q.http.mutation('seats.purchase', { orgId, quantity: 1 }, { token: owner.token });
  const { position } = await q.http.mutation('seats.assign', { orgId, userId: owner.userId }, { token: owner.token });
  await q.http.query('seats.get', { orgId, minPosition: position }, { token: owner.token });
}, 120_000);

afterAll(async () => {
  await q?.stop();
  await proxied?.stop();
  if (webDir) await rm(webDir, { recursive: true, force: true });
});

/** The session cookies of a `Set-Cookie` answer, as a browser would send them back. */
function cookieHeader(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
}

async function login(baseUrl: string, user: { email: string }, headers: Record<string, string> = {}) {
  return fetch(`${baseUrl}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ email: user.email, password: PASSWORD }),
  });
}

describe('finding 7: browser security headers', () => {
  it('the app shell, a client route, an asset and /trpc all carry them; no HSTS over plain http', async () => {
    const host = new URL(q.baseUrl).host;
    const answers = await Promise.all([
      fetch(`${q.baseUrl}/`),
      fetch(`${q.baseUrl}/orgs/whatever/members`),
      fetch(`${q.baseUrl}/assets/app.js`),
      fetch(`${q.baseUrl}/trpc/auth.me`),
      fetch(`${q.baseUrl}/trpc/auth.login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 401, 400]);
    for (const res of answers) {
      const csp = res.headers.get('content-security-policy') ?? '';
      const directives = new Map(
        csp
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .map(([name, ...values]) => [name, values]),
      );
      expect(directives.get('default-src')).toEqual(["'self'"]);
      expect(directives.get('script-src')).toEqual(["'self'"]);
      expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
      expect(directives.get('object-src')).toEqual(["'none'"]);
      // The app's own WebSockets (the embedded SFU's signaling at /sfu) are on this host.
      expect(directives.get('connect-src')).toEqual(
        expect.arrayContaining(["'self'", `ws://${host}`, `wss://${host}`]),
      );
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      // Invitation and verification links carry their secret in the path.
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('does not serve source maps', async () => {
    const res = await fetch(`${q.baseUrl}/assets/app.js.map`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('secret-internals');
    // The script itself is still served.
    expect(await (await fetch(`${q.baseUrl}/assets/app.js`)).text()).toBe(SCRIPT);
  });
});

describe('finding 8: bad input is a 400 with a reason, never a 500, and changes nothing', () => {
  const BAD_TEXT = [
    ['a NUL byte', 'Acme\u0000Corp'],
    ['a lone high surrogate', 'Acme \ud800'],
    ['a lone low surrogate', '\udc00 Acme'],
  ] as const;

  it.each(BAD_TEXT)(
    '%s in an organization name, a meeting title, an API key name or a sign-up name',
    async (_, bad) => {
      const head = await settledHead(q);
      const keysBefore = await q.http.query('apiKeys.list', { orgId }, { token: owner.token });
      const email = uniqueEmail('bad-name');
      const calls = [
        () => q.http.mutation('org.create', { name: bad }, { token: owner.token }),
        () => q.http.mutation('meetings.create', { orgId, title: bad }, { token: owner.token }),
        () => q.http.mutation('apiKeys.create', { orgId, name: bad, role: 'member' }, { token: owner.token }),
        () => q.http.mutation('auth.signUp', { email, password: PASSWORD, name: bad }),
      ];
      for (const call of calls) {
        const f = await failure(call());
        expect({ status: f.status, code: f.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
        expect(f.fieldErrors?.map((e) => e.path)).toEqual([expect.stringMatching(/^(name|title)$/)]);
        expect(f.message).toMatch(/control characters/);
      }
      expect(await settledHead(q)).toBe(head);
      expect(await q.http.query('apiKeys.list', { orgId }, { token: owner.token })).toEqual(keysBefore);
      expect((await failure(q.http.mutation('auth.login', { email, password: PASSWORD }))).code).toBe('UNAUTHORIZED');
    },
  );

  it('an ordinary name with accents, emoji and inner spaces is still taken', async () => {
    const { orgId, position } = await q.http.mutation(
      'org.create',
      { name: '  Café  Ünïcode 🎉 ' },
      { token: owner.token },
    );
    const org = await q.http.query('org.get', { orgId, minPosition: position }, { token: owner.token });
    expect(org.name).toBe('Café  Ünïcode 🎉');
  });

  it('events.list positions past 2^63-1 are refused; the largest bigint is fine', async () => {
    for (const position of ['9223372036854775808', '9999999999999999999']) {
      for (const key of ['after', 'before'] as const) {
        const f = await failure(q.http.query('events.list', { orgId, [key]: position }, { token: owner.token }));
        expect({ status: f.status, code: f.code, path: f.fieldErrors?.[0]?.path }).toEqual({
          status: 400,
          code: 'BAD_REQUEST',
          path: key,
        });
      }
      const f = await failure(q.http.query('org.get', { orgId, minPosition: position }, { token: owner.token }));
      expect({ status: f.status, code: f.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
    }
    const page = await q.http.query('events.list', { orgId, after: '9223372036854775807' }, { token: owner.token });
    expect(page.events).toEqual([]);
    const earlier = await q.http.query('events.list', { orgId, before: '9223372036854775807' }, { token: owner.token });
    expect(earlier.events.length).toBeGreaterThan(0);
  });

  it('events.list event types with a NUL byte are refused', async () => {
    const f = await failure(
      q.http.query('events.list', { orgId, types: ['member.joined\u0000'] }, { token: owner.token }),
    );
    expect({ status: f.status, code: f.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
  });

  it.each(['/%00', '/assets/%00app.js', '/%E0%A4%A', '/%', '/%C0%AF..%C0%AF'])(
    'the static path %s is answered 400 or 404',
    async (path) => {
      const res = await fetch(`${q.baseUrl}${path}`);
      expect([400, 404]).toContain(res.status);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    },
  );

  describe('a display name with a NUL byte', () => {
    const bad = 'Ada\u0000Lovelace';
    let cast: Awaited<ReturnType<typeof meetingCast>>;
    let sessionId: string;

    beforeAll(async () => {
      cast = await meetingCast(q.http);
      ({ sessionId } = await createMeeting(q.http, cast.orgId, { token: cast.host.token }));
    });

    it('is refused by meetings.join, before any join token is signed', async () => {
      const f = await failure(
        q.http.mutation(
          'meetings.join',
          { orgId: cast.orgId, sessionId, displayName: bad },
          { token: cast.alice.token },
        ),
      );
      expect({ status: f.status, code: f.code, path: f.fieldErrors?.[0]?.path }).toEqual({
        status: 400,
        code: 'BAD_REQUEST',
        path: 'displayName',
      });
    });

    it('is refused by the gateway when an SFU reports it', async () => {
      const f = await failure(
        q.http.mutation(
          'sfu.participantJoined',
          { orgId: cast.orgId, sessionId, participantId: cast.alice.userId, displayName: bad },
          { serviceToken: serviceToken(q) },
        ),
      );
      expect({ status: f.status, code: f.code, path: f.fieldErrors?.[0]?.path }).toEqual({
        status: 400,
        code: 'BAD_REQUEST',
        path: 'displayName',
      });
    });

    it('in a join token is refused at the SFU as invalid claims, not reported to fail as an internal error', async () => {
      const ticket = await q.http.mutation(
        'meetings.join',
        { orgId: cast.orgId, sessionId },
        { token: cast.alice.token },
      );
      // Signed with the deployment's secret, as a gateway without the check would have.
      const { token } = signJoinToken(
        { sub: cast.alice.userId, org: cast.orgId, sid: sessionId, name: bad, host: false, mod: false },
        q.env.JOIN_TOKEN_SECRET!,
        { ttlSeconds: 60, nowSeconds: Math.floor(Date.now() / 1000) },
      );
      const client = await SignalingClient.connect(ticket.signalingUrl);
      try {
        const refused = await client.request('join', { token }).then(
          () => undefined,
          (err: unknown) =>
            err instanceof SignalingRequestError ? err.error : { code: 'closed', message: String(err) },
        );
        expect(refused).toMatchObject({ code: 'UNAUTHORIZED', reason: 'token.invalid_claims' });
        expect(refused?.message).not.toMatch(/internal/i);
      } finally {
        client.close();
      }
    });
  });
});

describe('finding 9: request ids, WebSocket origins, cross-site forms, TLS behind a proxy', () => {
  it('x-request-id is kept only when 1 to 128 printable ASCII characters; otherwise a fresh id is used', async () => {
    const send = (requestId: string) =>
      fetch(`${q.baseUrl}/trpc/org.create`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${owner.token}`,
          'x-request-id': requestId,
        },
        body: JSON.stringify({ name: 'Request ids' }),
      }).then(
        async (res) => ((await res.json()) as { result: { data: { orgId: string; position: string } } }).result.data,
      );
    const tooLong = 'r'.repeat(4_000);
    const made = {
      kept: await send('req-1234/abc'),
      long: await send(tooLong),
      spaced: await send('has spaces in it'),
    };
    const correlationOf = async (created: { orgId: string; position: string }) => {
      const page = await q.http.query(
        'events.list',
        { orgId: created.orgId, minPosition: created.position },
        { token: owner.token },
      );
      return page.events[0].correlationId as string;
    };
    expect(await correlationOf(made.kept)).toBe('req-1234/abc');
    for (const created of [made.long, made.spaced]) {
      expect(await correlationOf(created)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  describe('a WebSocket at /trpc', () => {
    /** Resolves 'open', or the HTTP status the upgrade was refused with. */
    function upgrade(headers: Record<string, string>): Promise<'open' | number> {
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(`${q.baseUrl.replace(/^http/, 'ws')}/trpc`, { headers });
        ws.once('open', () => {
          ws.close();
          resolve('open');
        });
        ws.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.once('error', reject);
      });
    }

    it('is refused 403 from another site', async () => {
      expect(await upgrade({ origin: CROSS_SITE })).toBe(403);
      expect(await upgrade({ origin: 'null' })).toBe(403);
      // Same host name on another port is another origin.
      expect(await upgrade({ origin: 'http://127.0.0.1:1' })).toBe(403);
    });

    it('is opened without an Origin (a non-browser client) and from the same origin', async () => {
      expect(await upgrade({})).toBe('open');
      expect(await upgrade({ origin: q.baseUrl })).toBe('open');
    });
  });

  describe('a cross-site form', () => {
    it('cannot log someone out with their cookies: refused, the login goes on, no cookie is cleared', async () => {
      const user = await signUp(q.http, 'victim');
      const cookies = cookieHeader(await login(q.baseUrl, user));
      expect(cookies).toMatch(/quorum_access=.+; quorum_refresh=.+/);
      const form = new FormData();
      form.set('anything', '1');
      for (const origin of [CROSS_SITE, undefined]) {
        const res = await fetch(`${q.baseUrl}/trpc/auth.logout`, {
          method: 'POST',
          headers: { cookie: cookies, ...(origin ? { origin } : {}) },
          body: form,
        });
        expect(res.status).toBe(403);
        expect(res.headers.getSetCookie()).toEqual([]);
        const body = (await res.json()) as { error: { message: string } };
        expect(body.error.message).toMatch(/application\/json|another site/);
      }
      // The session still works, as the web app uses it: JSON, same origin, cookies only.
      const me = await fetch(`${q.baseUrl}/trpc/auth.me`, { headers: { cookie: cookies } });
      expect(me.status).toBe(200);
      const refreshed = await fetch(`${q.baseUrl}/trpc/auth.refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: cookies, origin: q.baseUrl },
        body: '{}',
      });
      expect(refreshed.status).toBe(200);
    });

    it('cannot clear cookies without them either (a SameSite cookie is not sent, but Set-Cookie would be taken)', async () => {
      const form = new FormData();
      form.set('anything', '1');
      const res = await fetch(`${q.baseUrl}/trpc/auth.logout`, {
        method: 'POST',
        headers: { origin: CROSS_SITE },
        body: form,
      });
      expect(res.status).toBe(403);
      expect(res.headers.getSetCookie()).toEqual([]);
    });

    it('JSON with a cookie from another site is refused too; API clients with a Bearer token are not affected', async () => {
      const user = await signUp(q.http, 'json-victim');
      const cookies = cookieHeader(await login(q.baseUrl, user));
      const res = await fetch(`${q.baseUrl}/trpc/org.create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: cookies, origin: CROSS_SITE },
        body: JSON.stringify({ name: 'Forged' }),
      });
      expect(res.status).toBe(403);
      const asApi = await fetch(`${q.baseUrl}/trpc/org.create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}`, origin: CROSS_SITE },
        body: JSON.stringify({ name: 'From a server' }),
      });
      expect(asApi.status).toBe(200);
    });
  });

  describe('TLS behind a proxy', () => {
    it('without TRUST_PROXY, X-Forwarded-Proto is ignored: no Secure cookie, no HSTS, http links in mail', async () => {
      const email = uniqueEmail('untrusted');
      const res = await fetch(`${q.baseUrl}/trpc/auth.signUp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
        body: JSON.stringify({ email, password: PASSWORD, name: 'Untrusted' }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie().length).toBe(2);
      for (const cookie of res.headers.getSetCookie()) expect(cookie).not.toMatch(/;\s*Secure/i);
      expect(res.headers.get('strict-transport-security')).toBeNull();
      const mailer = q.app.gateway.deps.mailer;
      if (!(mailer instanceof DirectoryMailer)) throw new Error('the test Quorum should use development mail');
      const mail = (await mailer.sent(email)).at(-1);
      expect(mail?.text).toMatch(new RegExp(`${q.baseUrl.replace(/[.]/g, '\\.')}/verify-email/`));
    });

    it('with TRUST_PROXY, X-Forwarded-Proto: https makes cookies Secure and turns HSTS on', async () => {
      const user = await signUp(proxied.http, 'behind-proxy');
      const secure = await login(proxied.baseUrl, user, { 'x-forwarded-proto': 'https' });
      expect(secure.status).toBe(200);
      expect(secure.headers.getSetCookie().length).toBe(2);
      for (const cookie of secure.headers.getSetCookie()) expect(cookie).toMatch(/;\s*Secure/);
      expect(secure.headers.get('strict-transport-security')).toMatch(/^max-age=\d{7,}/);
      const page = await fetch(`${proxied.baseUrl}/`, { headers: { 'x-forwarded-proto': 'https' } });
      expect(page.headers.get('strict-transport-security')).toMatch(/^max-age=\d{7,}/);

      const plain = await login(proxied.baseUrl, user, { 'x-forwarded-proto': 'http' });
      for (const cookie of plain.headers.getSetCookie()) expect(cookie).not.toMatch(/;\s*Secure/i);
      expect(plain.headers.get('strict-transport-security')).toBeNull();
    });
  });
});
