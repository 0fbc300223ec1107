import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../support/http-client';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

const PASSWORD = 'correct horse battery staple';
// Keys live in the shared Redis for the whole window, so every run uses fresh emails.
const email = (label: string) => `${label}-${randomUUID().slice(0, 12)}@example.com`;

/** Login guessing against a Quorum whose limits live in Redis. */
describe('auth rate limits over Redis', () => {
  let q: TestQuorum;
  beforeAll(async () => {
    q = await startTestQuorum('ratelimit', { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  });
  afterAll(async () => {
    await q?.stop();
  });

  it('refuses the 11th login for an email, even with the right password, and leaves other emails alone', async () => {
    const victim = email('victim');
    await q.http.mutation('auth.signUp', { email: victim, password: PASSWORD, name: 'Victim' });

    for (let i = 0; i < 10; i++) {
      const f = await failure(q.http.mutation('auth.login', { email: victim, password: `wrong guess ${i}` }));
      expect(f, `attempt ${i + 1}`).toMatchObject({ code: 'UNAUTHORIZED', reason: 'auth.invalid_credentials' });
    }
    // Differently cased, same account: the key is the lower-cased email.
    const limited = await failure(q.http.mutation('auth.login', { email: victim.toUpperCase(), password: PASSWORD }));
    expect(limited).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS', reason: 'auth.rate_limited' });
    const seconds = Number(/try again in (\d+) seconds/.exec(limited.message)?.[1]);
    expect(seconds).toBeGreaterThan(14 * 60);
    expect(seconds).toBeLessThanOrEqual(15 * 60);

    const bystander = email('bystander');
    await q.http.mutation('auth.signUp', { email: bystander, password: PASSWORD, name: 'Bystander' });
    const session = await q.http.mutation('auth.login', { email: bystander, password: PASSWORD });
    expect(session.user.email).toBe(bystander);
  });

  it('clears the email count on a successful login', async () => {
    const user = email('forgetful');
    await q.http.mutation('auth.signUp', { email: user, password: PASSWORD, name: 'Forgetful' });
    for (let i = 0; i < 9; i++)
      await failure(q.http.mutation('auth.login', { email: user, password: 'not it at all' }));
    await q.http.mutation('auth.login', { email: user, password: PASSWORD });
    for (let i = 0; i < 9; i++) {
      expect(await failure(q.http.mutation('auth.login', { email: user, password: 'still not it' }))).toMatchObject({
        code: 'UNAUTHORIZED',
      });
    }
    expect((await q.http.mutation('auth.login', { email: user, password: PASSWORD })).user.email).toBe(user);
  });

  it('reports redis on /health/ready', async () => {
    const res = await fetch(`${q.baseUrl}/health/ready`);
    expect(res.status).toBe(200);
    const report = (await res.json()) as { checks: Record<string, { ok: boolean }> };
    expect(report.checks.redis).toEqual({ ok: true });
  });
});
