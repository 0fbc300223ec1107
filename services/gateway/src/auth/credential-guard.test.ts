import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../trpc';
import { CredentialGuard, type WatchReason } from './credential-guard';
import type { Revocation, RevocationsRepository } from './revocations.repository';

/** The revocation log as another gateway shares it: rows with ids and times on one clock. */
function sharedLog() {
  let clock = Date.parse('2026-12-01T10:00:00Z');
  let nextId = 1;
  const rows: Array<{ id: string; kind: string; subject: string; at: Date }> = [];
  const repo = {
    async insert(revocations: Revocation[]) {
      for (const r of revocations) rows.push({ id: String(nextId++), ...r, at: new Date(clock) });
    },
    async since(since: Date) {
      return { rows: rows.filter((r) => r.at > since), now: new Date(clock) };
    },
    async clock() {
      return new Date(clock);
    },
    async recentLogins(seconds: number) {
      return rows.filter((r) => r.kind === 'login' && r.at.getTime() > clock - seconds * 1000);
    },
    async pruneOlderThan() {},
  } as unknown as RevocationsRepository;
  return { repo, rows, advance: (ms: number) => (clock += ms), now: () => new Date(clock) };
}

const user = (loginId: string, expiresAt: number): Principal => ({
  kind: 'user',
  userId: 'u1',
  email: 'u1@example.com',
  loginId,
  expiresAt,
});
const key = (keyId: string): Principal => ({ kind: 'apiKey', keyId, orgId: 'o1', role: 'admin' });

async function guardOn(log: ReturnType<typeof sharedLog>, accessTokenTtlSeconds = 900) {
  return CredentialGuard.start(log.repo, {
    pollMs: 0,
    accessTokenTtlSeconds,
    logger: pino({ level: 'silent' }),
    now: log.now,
  });
}

describe('CredentialGuard', () => {
  it('refuses at once what this gateway revoked, and what another did after its next poll', async () => {
    const log = sharedLog();
    const here = await guardOn(log);
    const there = await guardOn(log);
    const far = Math.floor(log.now().getTime() / 1000) + 600;
    await here.revoke([
      { kind: 'login', subject: 'login-1' },
      { kind: 'apiKey', subject: 'key-1' },
    ]);
    expect(() => here.assertValid(user('login-1', far))).toThrow(
      expect.objectContaining({ reason: 'auth.session_revoked' }),
    );
    expect(() => here.assertValid(key('key-1'))).toThrow(expect.objectContaining({ reason: 'auth.api_key_revoked' }));
    // The other gateway has not polled yet.
    expect(() => there.assertValid(user('login-1', far))).not.toThrow();
    await there.poll();
    expect(() => there.assertValid(user('login-1', far))).toThrow(
      expect.objectContaining({ reason: 'auth.session_revoked' }),
    );
    expect(() => there.assertValid(key('key-1'))).toThrow(expect.objectContaining({ reason: 'auth.api_key_revoked' }));
    expect(() => there.assertValid(key('key-2'))).not.toThrow();
  });

  it('refuses an expired access token', async () => {
    const log = sharedLog();
    const guard = await guardOn(log);
    const exp = Math.floor(log.now().getTime() / 1000) + 5;
    expect(() => guard.assertValid(user('l', exp))).not.toThrow();
    log.advance(5_000);
    expect(() => guard.assertValid(user('l', exp))).toThrow(expect.objectContaining({ reason: 'auth.token_expired' }));
  });

  it('calls a watcher back once for its credential, and for membership changes in its organization each time', async () => {
    const log = sharedLog();
    const here = await guardOn(log);
    const there = await guardOn(log);
    const far = Math.floor(log.now().getTime() / 1000) + 600;
    const seen: WatchReason[] = [];
    there.watch({ principal: user('login-2', far), orgId: 'o1' }, (r) => seen.push(r));
    await here.revoke([{ kind: 'member', subject: 'o1:u1' }]);
    await here.revoke([{ kind: 'member', subject: 'o2:u1' }]);
    await there.poll();
    expect(seen).toEqual(['membership_changed']);
    await here.revoke([{ kind: 'login', subject: 'login-2' }]);
    await there.poll();
    // A poll that sees the same rows again (the overlap) calls nobody twice.
    await there.poll();
    expect(seen).toEqual(['membership_changed', 'login_revoked']);
    await here.revoke([{ kind: 'member', subject: 'o1:u1' }]);
    await there.poll();
    expect(seen).toEqual(['membership_changed', 'login_revoked']);
  });

  it('learns at start the logins ended within the access token lifetime', async () => {
    const log = sharedLog();
    const first = await guardOn(log);
    await first.revoke([{ kind: 'login', subject: 'old' }]);
    log.advance(60_000);
    await first.revoke([{ kind: 'login', subject: 'recent' }]);
    log.advance(1_000);
    const started = await guardOn(log, 30);
    const far = Math.floor(log.now().getTime() / 1000) + 600;
    expect(() => started.assertValid(user('recent', far))).toThrow();
    // Ended longer ago than any access token lives: its tokens have expired anyway.
    expect(() => started.assertValid(user('old', far))).not.toThrow();
  });

  it('an unsubscribed watcher is not called', async () => {
    const log = sharedLog();
    const guard = await guardOn(log);
    const seen: WatchReason[] = [];
    const stop = guard.watch({ principal: key('k9') }, (r) => seen.push(r));
    stop();
    await guard.revoke([{ kind: 'apiKey', subject: 'k9' }]);
    expect(seen).toEqual([]);
  });
});
