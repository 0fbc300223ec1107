import { randomUUID } from 'node:crypto';
import { AppError } from '@quorum/domain';
import { hashPassword, verifyPassword } from './passwords';
import type { AuthRepository } from './auth.repository';
import type { LoginInput, SignUpInput } from '@quorum/api/schemas';
import { hashToken, newOpaqueToken, signAccessToken, verifyAccessToken, type AccessClaims } from './tokens';

export interface AuthConfig {
  secret: string;
  /** Told of each login this service ends, so it stops at once on this gateway. */
  onLoginRevoked?: (familyId: string) => void;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

export interface Session {
  user: { id: string; email: string; name: string; emailVerified: boolean };
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
}

const invalidCredentials = () =>
  new AppError('UNAUTHORIZED', 'auth.invalid_credentials', 'Email or password is incorrect.');
const invalidRefresh = () =>
  new AppError('UNAUTHORIZED', 'auth.invalid_refresh_token', 'The session has expired; log in again.');

// A fixed hash so an unknown email costs the same time as a wrong password.
let dummyHash: Promise<string> | undefined;

export class AuthService {
  constructor(
    private readonly repo: AuthRepository,
    private readonly config: AuthConfig,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async signUp(input: SignUpInput): Promise<Session> {
    const id = randomUUID();
    const created = await this.repo.insertUser({
      id,
      email: input.email,
      name: input.name,
      passwordHash: await hashPassword(input.password),
    });
    if (!created)
      throw new AppError(
        'CONFLICT',
        'auth.email_taken',
        `An account with ${input.email} already exists; log in instead.`,
      );
    return this.issue({ id, email: input.email, name: input.name, emailVerified: false }, randomUUID());
  }

  async login(input: LoginInput): Promise<Session> {
    const user = await this.repo.findUserByEmail(input.email);
    if (!user) {
      await verifyPassword(input.password, await (dummyHash ??= hashPassword('not-a-real-password')));
      throw invalidCredentials();
    }
    if (!(await verifyPassword(input.password, user.password_hash))) throw invalidCredentials();
    return this.issue(
      { id: user.id, email: user.email, name: user.name, emailVerified: user.email_verified_at !== null },
      randomUUID(),
    );
  }

  /**
   * Rotates a refresh token. A token used twice means it leaked: the whole family
   * (every token descended from that login) is revoked.
   */
  async refresh(refreshToken: string): Promise<Session> {
    const now = this.now();
    const row = await this.repo.findRefreshToken(hashToken(refreshToken));
    if (!row || row.revoked_at) throw invalidRefresh();
    if (row.used_at) {
      await this.revokeLogin(row.family_id, now);
      throw new AppError(
        'UNAUTHORIZED',
        'auth.refresh_token_reused',
        'This session was used from somewhere else and has been ended; log in again.',
      );
    }
    if (new Date(row.expires_at) <= now) throw invalidRefresh();
    if (!(await this.repo.markUsed(row.id, now))) {
      await this.revokeLogin(row.family_id, now);
      throw new AppError(
        'UNAUTHORIZED',
        'auth.refresh_token_reused',
        'This session was used from somewhere else and has been ended; log in again.',
      );
    }
    const user = await this.repo.findUserById(row.user_id);
    if (!user) throw invalidRefresh();
    return this.issue(
      { id: user.id, email: user.email, name: user.name, emailVerified: user.email_verified_at !== null },
      row.family_id,
    );
  }

  /** Ends the session the refresh token belongs to; unknown tokens are ignored. */
  async logout(refreshToken: string | undefined): Promise<void> {
    if (!refreshToken) return;
    const row = await this.repo.findRefreshToken(hashToken(refreshToken));
    if (row) await this.revokeLogin(row.family_id, this.now());
  }

  /** Ends the login with this id (its access tokens too), e.g. the one of the caller's token. */
  async revokeLogin(familyId: string, at: Date = this.now()): Promise<void> {
    await this.repo.revokeFamily(familyId, at);
    this.config.onLoginRevoked?.(familyId);
  }

  verifyAccess(token: string): AccessClaims | undefined {
    return verifyAccessToken(token, this.config.secret, Math.floor(this.now().getTime() / 1000));
  }

  async me(userId: string): Promise<{ id: string; email: string; name: string; emailVerified: boolean }> {
    const user = await this.repo.findUserById(userId);
    if (!user) throw new AppError('UNAUTHORIZED', 'auth.unknown_user', 'This account no longer exists.');
    return { id: user.id, email: user.email, name: user.name, emailVerified: user.email_verified_at !== null };
  }

  /** Marks `email` proven for the user, if it is still their address; false otherwise. */
  markEmailVerified(userId: string, email: string): Promise<boolean> {
    return this.repo.markEmailVerified(userId, email, this.now());
  }

  private async issue(user: Session['user'], familyId: string): Promise<Session> {
    const now = this.now();
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + this.config.accessTokenTtlSeconds;
    const refreshToken = newOpaqueToken('qrt');
    const refreshExpires = new Date(now.getTime() + this.config.refreshTokenTtlSeconds * 1000);
    await this.repo.insertRefreshToken({
      id: randomUUID(),
      userId: user.id,
      familyId,
      tokenHash: hashToken(refreshToken),
      expiresAt: refreshExpires,
    });
    return {
      user,
      accessToken: signAccessToken({ sub: user.id, email: user.email, sid: familyId, iat, exp }, this.config.secret),
      accessTokenExpiresAt: new Date(exp * 1000).toISOString(),
      refreshToken,
      refreshTokenExpiresAt: refreshExpires.toISOString(),
    };
  }
}
