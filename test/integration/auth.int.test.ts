/**
 * Authentication over real HTTP: passwords, access tokens, rotating refresh tokens with reuse
 * detection, the web app's session cookies, and API keys shown once and stored hashed.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../support/http-client';
import { createOrg, PASSWORD, signUp, uniqueEmail } from '../support/people';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;

beforeAll(async () => {
  q = await startTestQuorum('auth');
});

afterAll(async () => {
  await q?.stop();
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An HS256 token as the gateway signs them, with claims of our choosing. */
function signToken(claims: Record<string, unknown>, secret: string): string {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** `name=value` pairs and attributes of the response's Set-Cookie headers. */
function cookiesOf(res: Response): Map<string, { pair: string; value: string; attributes: string }> {
  const out = new Map<string, { pair: string; value: string; attributes: string }>();
  for (const line of res.headers.getSetCookie()) {
    const [pair = '', ...attrs] = line.split(';');
    const i = pair.indexOf('=');
    out.set(pair.slice(0, i), { pair, value: pair.slice(i + 1), attributes: attrs.join(';') });
  }
  return out;
}

describe('passwords and access tokens', () => {
  it('sign up → log in → me', async () => {
    const email = uniqueEmail('ada');
    const signed = await q.http.mutation('auth.signUp', {
      email: email.toUpperCase(),
      password: PASSWORD,
      name: 'Ada',
    });
    expect(signed.user).toMatchObject({ email, name: 'Ada' });
    const session = await q.http.mutation('auth.login', { email, password: PASSWORD });
    expect(session).toMatchObject({
      user: { id: signed.user.id, email },
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
    });
    expect(Date.parse(session.accessTokenExpiresAt)).toBeLessThan(Date.parse(session.refreshTokenExpiresAt));
    expect(await q.http.query('auth.me', {}, { token: session.accessToken })).toEqual({
      id: signed.user.id,
      email,
      name: 'Ada',
      emailVerified: false,
      operator: false,
    });
  });

  it('stores the password as a salted scrypt hash', async () => {
    const user = await signUp(q.http, 'hashed');
    const twin = await signUp(q.http, 'hashed');
    const { rows } = await q.app.sql.query<{ id: string; password_hash: string }>(
      'SELECT id, password_hash FROM users WHERE id = ANY($1)',
      [[user.userId, twin.userId]],
    );
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.password_hash).toMatch(/^scrypt\$/);
      expect(r.password_hash).not.toContain(PASSWORD);
    }
    expect(rows[0]!.password_hash).not.toBe(rows[1]!.password_hash);
  });

  it('a wrong password and an unknown email are both UNAUTHORIZED with the same message', async () => {
    const user = await signUp(q.http, 'wrong');
    const wrong = await failure(q.http.mutation('auth.login', { email: user.email, password: 'not the password' }));
    const unknown = await failure(q.http.mutation('auth.login', { email: uniqueEmail('nobody'), password: PASSWORD }));
    expect(wrong).toMatchObject({ status: 401, code: 'UNAUTHORIZED', reason: 'auth.invalid_credentials' });
    expect(unknown).toEqual(wrong);
  });

  it('a duplicate sign-up is CONFLICT, whatever the case of the email', async () => {
    const user = await signUp(q.http, 'dup');
    const f = await failure(
      q.http.mutation('auth.signUp', { email: user.email.toUpperCase(), password: PASSWORD, name: 'Again' }),
    );
    expect(f).toMatchObject({ status: 409, code: 'CONFLICT', reason: 'auth.email_taken' });
    // The first account is untouched.
    await expect(q.http.mutation('auth.login', { email: user.email, password: PASSWORD })).resolves.toMatchObject({
      user: { id: user.userId },
    });
  });

  it('a forged, expired or garbage Bearer token is UNAUTHORIZED', async () => {
    const user = await signUp(q.http, 'victim');
    const other = await signUp(q.http, 'attacker');
    const secret = q.env.AUTH_SECRET!;
    const now = Math.floor(Date.now() / 1000);
    const [head, , sig] = other.token.split('.');
    const sid = randomUUID();
    const claims = { sub: user.userId, email: user.email, sid, iat: now, exp: now + 600 };
    const tokens = {
      // The attacker's signature over a payload naming the victim.
      swapped: `${head}.${b64(claims)}.${sig}`,
      wrongSecret: signToken(claims, 'x'.repeat(64)),
      expired: signToken({ ...claims, iat: now - 1000, exp: now - 1 }, secret),
      // Signed with the right secret but tied to no login: it could never be revoked.
      noLogin: signToken({ sub: user.userId, email: user.email, iat: now, exp: now + 600 }, secret),
      noneAlg: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
      garbage: 'garbage',
    };
    // The same claims with the right secret and a future expiry do authenticate: the refusals are about the token.
    await expect(q.http.query('auth.me', {}, { token: signToken(claims, secret) })).resolves.toMatchObject({
      id: user.userId,
    });
    for (const [name, token] of Object.entries(tokens)) {
      expect(await failure(q.http.query('auth.me', {}, { token })), name).toMatchObject({
        status: 401,
        code: 'UNAUTHORIZED',
      });
    }
  });
});

describe('refresh tokens', () => {
  it('rotate: each refresh token works once; reusing an old one revokes the whole family', async () => {
    const user = await signUp(q.http, 'rotate');
    const r1 = (await q.http.mutation('auth.login', { email: user.email, password: PASSWORD })).refreshToken as string;
    const s2 = await q.http.mutation('auth.refresh', { refreshToken: r1 });
    expect(s2.refreshToken).not.toBe(r1);
    expect(await q.http.query('auth.me', {}, { token: s2.accessToken })).toMatchObject({ id: user.userId });
    const s3 = await q.http.mutation('auth.refresh', { refreshToken: s2.refreshToken });
    const r3 = s3.refreshToken as string;

    const reused = await failure(q.http.mutation('auth.refresh', { refreshToken: r1 }));
    expect(reused).toMatchObject({ status: 401, code: 'UNAUTHORIZED', reason: 'auth.refresh_token_reused' });
    // The newest token of that family was never used, and is dead too.
    expect(await failure(q.http.mutation('auth.refresh', { refreshToken: r3 }))).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
    });

    // Another login is another family and is unaffected.
    const fresh = await q.http.mutation('auth.login', { email: user.email, password: PASSWORD });
    await expect(q.http.mutation('auth.refresh', { refreshToken: fresh.refreshToken })).resolves.toMatchObject({
      user: { id: user.userId },
    });
  });

  it('an unknown refresh token is UNAUTHORIZED', async () => {
    expect(await failure(q.http.mutation('auth.refresh', { refreshToken: 'qrt_not-a-token' }))).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
      reason: 'auth.invalid_refresh_token',
    });
    expect(await failure(q.http.mutation('auth.refresh', {}))).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  it('logout revokes the session', async () => {
    const user = await signUp(q.http, 'logout');
    const s = await q.http.mutation('auth.login', { email: user.email, password: PASSWORD });
    const next = await q.http.mutation('auth.refresh', { refreshToken: s.refreshToken });
    await expect(q.http.mutation('auth.logout', { refreshToken: next.refreshToken })).resolves.toEqual({
      loggedOut: true,
    });
    expect(await failure(q.http.mutation('auth.refresh', { refreshToken: next.refreshToken }))).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
    });
  });
});

describe('session cookies (the web app)', () => {
  it('login sets HttpOnly cookies that authenticate by themselves; refresh and logout work with the cookie alone', async () => {
    const user = await signUp(q.http, 'cookie');
    const { response } = await q.http.raw('POST', 'auth.login', { email: user.email, password: PASSWORD });
    const set = cookiesOf(response);
    const access = set.get('quorum_access');
    const refresh = set.get('quorum_refresh');
    expect(access?.attributes).toMatch(/HttpOnly/);
    expect(refresh?.attributes).toMatch(/HttpOnly/);
    expect(refresh?.attributes).toMatch(/SameSite=Strict/);

    expect(await q.http.query('auth.me', {}, { cookie: access!.pair })).toMatchObject({ id: user.userId });
    const { orgId } = await q.http.mutation('org.create', { name: 'Cookie Co', plan: 'pro' }, { cookie: access!.pair });
    expect(orgId).toMatch(/^[0-9a-f-]{36}$/);

    const refreshed = await q.http.raw('POST', 'auth.refresh', {}, { cookie: refresh!.pair });
    const rotated = cookiesOf(refreshed.response);
    expect((refreshed.data as { user: { id: string } }).user.id).toBe(user.userId);
    expect(rotated.get('quorum_refresh')?.value).not.toBe(refresh!.value);
    expect(await q.http.query('auth.me', {}, { cookie: rotated.get('quorum_access')!.pair })).toMatchObject({
      id: user.userId,
    });
    // The cookie that was just rotated out counts as reuse.
    expect(await failure(q.http.mutation('auth.refresh', {}, { cookie: refresh!.pair }))).toMatchObject({
      code: 'UNAUTHORIZED',
      reason: 'auth.refresh_token_reused',
    });

    const other = await q.http.raw('POST', 'auth.login', { email: user.email, password: PASSWORD });
    const otherRefresh = cookiesOf(other.response).get('quorum_refresh')!;
    const out = await q.http.raw('POST', 'auth.logout', {}, { cookie: otherRefresh.pair });
    expect(cookiesOf(out.response).get('quorum_refresh')?.attributes).toMatch(/Max-Age=0/);
    expect(await failure(q.http.mutation('auth.refresh', {}, { cookie: otherRefresh.pair }))).toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('a garbage session cookie is UNAUTHORIZED', async () => {
    expect(await failure(q.http.query('auth.me', {}, { cookie: 'quorum_access=garbage' }))).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
    });
  });
});

describe('API keys', () => {
  it('the secret is shown once, never listed, stored only as a hash, and dies when revoked', async () => {
    const owner = await signUp(q.http, 'keys');
    const { orgId, position } = await createOrg(q.http, owner, 'pro');
    const created = await q.http.mutation(
      'apiKeys.create',
      { orgId, name: 'CI', role: 'admin' },
      { token: owner.token },
    );
    const secret = created.secret as string;
    expect(secret).toMatch(/^qk_/);
    expect(created.key).toMatchObject({ name: 'CI', role: 'admin', revokedAt: null });
    expect(JSON.stringify(created.key)).not.toContain(secret);

    const listed = await q.http.raw('GET', 'apiKeys.list', { orgId, minPosition: position }, { token: owner.token });
    const text = JSON.stringify(listed.data);
    expect(text).toContain(created.key.id);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(-43));

    const { rows } = await q.app.sql.query<{ secret_hash: string }>('SELECT secret_hash FROM api_keys WHERE id = $1', [
      created.key.id,
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secret_hash).not.toBe(secret);
    expect(rows[0]!.secret_hash).not.toContain(secret.slice(-43));

    // The key works, for its organization, as its role.
    await expect(q.http.query('org.get', { orgId, minPosition: position }, { apiKey: secret })).resolves.toMatchObject({
      orgId,
      yourRole: 'admin',
    });
    // A key with a changed secret part is not the key.
    const tampered = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    expect(await failure(q.http.query('org.get', { orgId }, { apiKey: tampered }))).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
    });

    const revoked = await q.http.mutation('apiKeys.revoke', { orgId, keyId: created.key.id }, { token: owner.token });
    expect(revoked).toEqual({ revoked: true, position: expect.stringMatching(/^\d+$/) });
    // Both facts are in the organization's log, attributed, and the secret is not.
    const log = await q.http.query(
      'events.list',
      { orgId, types: ['api_key.created', 'api_key.revoked'], minPosition: revoked.position },
      { token: owner.token },
    );
    expect(log.events.map((e: { type: string; data: unknown }) => [e.type, e.data])).toEqual([
      ['api_key.created', { keyId: created.key.id, name: 'CI', role: 'admin', createdBy: owner.userId }],
      ['api_key.revoked', { keyId: created.key.id, revokedBy: owner.userId }],
    ]);
    expect(JSON.stringify(log)).not.toContain(secret.slice(-43));
    expect(
      await failure(q.http.mutation('apiKeys.revoke', { orgId, keyId: created.key.id }, { token: owner.token })),
    ).toMatchObject({ code: 'NOT_FOUND' });
    expect(await failure(q.http.query('org.get', { orgId }, { apiKey: secret }))).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
    });
    const after = await q.http.query('apiKeys.list', { orgId }, { token: owner.token });
    expect(after).toEqual([expect.objectContaining({ id: created.key.id, revokedAt: expect.any(String) })]);
  });

  it('the free plan refuses apiKeys.create', async () => {
    const owner = await signUp(q.http, 'free');
    const { orgId, position } = await createOrg(q.http, owner, 'free');
    const f = await failure(
      q.http.mutation('apiKeys.create', { orgId, name: 'CI', role: 'admin' }, { token: owner.token }),
    );
    expect(f).toMatchObject({ status: 412, code: 'PRECONDITION_FAILED', reason: 'plan.no_api_access' });
    expect(await q.http.query('apiKeys.list', { orgId, minPosition: position }, { token: owner.token })).toEqual([]);
  });
});
