/**
 * Access that ends when it is taken away, on every gateway and every transport.
 *
 * A credential is taken away by logging out (or by a refresh token's reuse, which ends the whole
 * login), by revoking an API key, or by a change of membership. Each is written to the shared
 * `credential_revocations` log in the same statement as the change itself, and applied here at
 * once. Every gateway polls the log (`pollMs`, 1 s by default), so the others learn of it within
 * that interval, whichever process made the change.
 *
 * What it guards:
 * - every call: `assertValid(principal)` refuses an expired access token, a token of an ended
 *   login and a revoked API key, from memory (no query per call). Over WebSocket the principal
 *   was read once at connect, so this is what makes a revocation hold there;
 * - what stays open: `watch()` calls back when the credential behind a socket or a live
 *   subscription is taken away or its access token expires, so the socket is closed and the
 *   subscription ended instead of waiting for the client's next message.
 *
 * Ended logins are remembered for the access tokens' lifetime (an older token has expired
 * anyway), revoked keys and membership changes for a day; the log is pruned past that.
 */
import { AppError } from '@quorum/domain';
import type { Logger } from 'pino';
import type { Principal } from '../trpc';
import type { Revocation, RevocationKind, RevocationsRepository } from './revocations.repository';

export interface CredentialGuardOptions {
  pollMs?: number;
  /** Access token lifetime: how long an ended login must be remembered. */
  accessTokenTtlSeconds: number;
  logger: Logger;
  now: () => Date;
}

/** Why a watched credential stopped holding. */
export type WatchReason = 'login_revoked' | 'api_key_revoked' | 'membership_changed' | 'token_expired';

/** What a socket or subscription holds: any of these going away calls its watcher back. */
export interface Watched {
  principal: Principal;
  /** The organization a subscription reads; membership changes there call back too. */
  orgId?: string;
}

const DAY_SECONDS = 86_400;
/** How far back each poll looks past the last one, for rows committed just after their timestamp. */
const OVERLAP_MS = 10_000;
const PRUNE_EVERY_MS = 10 * 60_000;

const keyOf = (kind: RevocationKind, subject: string) => `${kind}\u0000${subject}`;

export class CredentialGuard {
  /** Revocations seen, by kind and subject → when they were seen (for forgetting). */
  private readonly revoked = new Map<string, number>();
  /** Row ids already applied within the overlap window. */
  private readonly seenIds = new Map<string, number>();
  private readonly watchers = new Map<string, Set<(reason: WatchReason) => void>>();
  private readonly pollMs: number;
  private cursor: Date | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private lastPrune = 0;
  private failures = 0;
  private closed = false;

  private constructor(
    private readonly repo: RevocationsRepository,
    private readonly options: CredentialGuardOptions,
  ) {
    this.pollMs = options.pollMs ?? 1_000;
  }

  /** Loads the logins ended within the access tokens' lifetime, then polls the log. */
  static async start(repo: RevocationsRepository, options: CredentialGuardOptions): Promise<CredentialGuard> {
    const guard = new CredentialGuard(repo, options);
    guard.cursor = new Date((await repo.clock()).getTime() - OVERLAP_MS);
    for (const row of await repo.recentLogins(options.accessTokenTtlSeconds))
      guard.apply(row.kind as RevocationKind, row.subject);
    await guard.poll();
    if (guard.pollMs > 0) {
      guard.timer = setInterval(() => void guard.poll(), guard.pollMs);
      guard.timer.unref();
    }
    return guard;
  }

  /** Throws UNAUTHORIZED when `principal`'s credential no longer holds. */
  assertValid(principal: Principal): void {
    const reason = this.invalidReason(principal);
    if (reason === undefined) return;
    switch (reason) {
      case 'token_expired':
        throw new AppError(
          'UNAUTHORIZED',
          'auth.token_expired',
          'The access token has expired; refresh the session or log in again.',
        );
      case 'login_revoked':
        throw new AppError(
          'UNAUTHORIZED',
          'auth.session_revoked',
          'This session has ended (logged out or revoked); log in again.',
        );
      case 'api_key_revoked':
        throw new AppError('UNAUTHORIZED', 'auth.api_key_revoked', 'This API key has been revoked.');
      case 'membership_changed':
        throw new AppError('UNAUTHORIZED', 'auth.membership_changed', 'Your access to this organization changed.');
    }
  }

  invalidReason(principal: Principal): WatchReason | undefined {
    if (principal.kind === 'apiKey')
      return this.revoked.has(keyOf('apiKey', principal.keyId)) ? 'api_key_revoked' : undefined;
    if (principal.expiresAt * 1000 <= this.options.now().getTime()) return 'token_expired';
    return this.revoked.has(keyOf('login', principal.loginId)) ? 'login_revoked' : undefined;
  }

  /**
   * Calls `onEnd` once when what `watched` holds is taken away or its access token expires
   * (membership changes in `watched.orgId` call it too: the caller checks access again).
   * Returns the unsubscribe.
   */
  watch(watched: Watched, onEnd: (reason: WatchReason) => void): () => void {
    const { principal } = watched;
    const keys: Array<[string, WatchReason]> = [];
    if (principal.kind === 'apiKey') keys.push([keyOf('apiKey', principal.keyId), 'api_key_revoked']);
    else {
      keys.push([keyOf('login', principal.loginId), 'login_revoked']);
      if (watched.orgId) keys.push([keyOf('member', `${watched.orgId}:${principal.userId}`), 'membership_changed']);
    }
    let timer: NodeJS.Timeout | undefined;
    const listeners: Array<[string, (reason: WatchReason) => void]> = [];
    const stop = () => {
      if (timer) clearTimeout(timer);
      for (const [key, listener] of listeners) {
        const set = this.watchers.get(key);
        set?.delete(listener);
        if (set?.size === 0) this.watchers.delete(key);
      }
      listeners.length = 0;
    };
    let fired = false;
    const fire = (reason: WatchReason) => {
      if (fired) return;
      // A membership change is not an end in itself: the caller re-checks and may watch again.
      if (reason !== 'membership_changed') fired = true;
      if (fired) stop();
      onEnd(reason);
    };
    for (const [key, reason] of keys) {
      const listener = () => fire(reason);
      listeners.push([key, listener]);
      let set = this.watchers.get(key);
      if (!set) this.watchers.set(key, (set = new Set()));
      set.add(listener);
    }
    if (principal.kind === 'user') {
      const ms = principal.expiresAt * 1000 - this.options.now().getTime();
      // setTimeout holds at most 2^31-1 ms (about 24 days); tokens live far less.
      timer = setTimeout(() => fire('token_expired'), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
      timer.unref();
    }
    const already = this.invalidReason(principal);
    if (already) queueMicrotask(() => fire(already));
    return stop;
  }

  /** Logs revocations for every gateway and applies them here at once. */
  async revoke(revocations: Revocation[]): Promise<void> {
    await this.repo.insert(revocations);
    this.applied(revocations);
  }

  /** Applies revocations another statement has already logged (in the same transaction as its change). */
  applied(revocations: Revocation[]): void {
    for (const r of revocations) this.apply(r.kind, r.subject);
  }

  /** One poll of the shared log now (tests, and the timer). */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.polling;
  }

  private async pollOnce(): Promise<void> {
    if (this.closed || !this.cursor) return;
    try {
      const { rows, now } = await this.repo.since(this.cursor);
      for (const row of rows) {
        if (this.seenIds.has(row.id)) continue;
        this.seenIds.set(row.id, new Date(row.at).getTime());
        this.apply(row.kind as RevocationKind, row.subject);
      }
      this.cursor = new Date(now.getTime() - OVERLAP_MS);
      for (const [id, at] of this.seenIds) if (at <= this.cursor.getTime()) this.seenIds.delete(id);
      this.forget(now.getTime());
      if (now.getTime() - this.lastPrune > PRUNE_EVERY_MS) {
        this.lastPrune = now.getTime();
        await this.repo.pruneOlderThan(DAY_SECONDS);
      }
      if (this.failures > 0)
        this.options.logger.info({ failures: this.failures }, 'credential revocation log readable again');
      this.failures = 0;
    } catch (err) {
      // Revocations made on this gateway still apply; others' wait for the next good poll.
      if (this.failures++ % 30 === 0)
        this.options.logger.warn({ err }, 'could not poll the credential revocation log; retrying');
    }
  }

  private apply(kind: RevocationKind, subject: string): void {
    const key = keyOf(kind, subject);
    if (kind !== 'member') this.revoked.set(key, this.options.now().getTime());
    for (const listener of [...(this.watchers.get(key) ?? [])]) {
      const reason: WatchReason =
        kind === 'login' ? 'login_revoked' : kind === 'apiKey' ? 'api_key_revoked' : 'membership_changed';
      listener(reason);
    }
  }

  private forget(nowMs: number): void {
    for (const [key, at] of this.revoked) {
      const keepSeconds = key.startsWith('login\u0000') ? this.options.accessTokenTtlSeconds : DAY_SECONDS;
      if (nowMs - at > keepSeconds * 1000 + OVERLAP_MS) this.revoked.delete(key);
    }
  }
}
