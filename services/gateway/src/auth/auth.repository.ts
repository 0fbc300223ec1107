import type { Database, RefreshTokenRow, UserRow } from '@quorum/db';
import type { Kysely } from 'kysely';

export class AuthRepository {
  constructor(private readonly db: Kysely<Database>) {}

  findUserByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  }

  findUserById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Sets `email_verified_at` (first time only) if `email` is still the user's; false when it is not. */
  async markEmailVerified(userId: string, email: string, at: Date): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set((eb) => ({ email_verified_at: eb.fn.coalesce('email_verified_at', eb.val(at)) }))
      .where('id', '=', userId)
      .where('email', '=', email)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** False when the email is taken. */
  async insertUser(user: { id: string; email: string; name: string; passwordHash: string }): Promise<boolean> {
    const rows = await this.db
      .insertInto('users')
      .values({ id: user.id, email: user.email, name: user.name, password_hash: user.passwordHash })
      .onConflict((oc) => oc.column('email').doNothing())
      .returning('id')
      .execute();
    return rows.length === 1;
  }

  async insertRefreshToken(t: {
    id: string;
    userId: string;
    familyId: string;
    tokenHash: string;
    expiresAt: Date;
  }): Promise<void> {
    await this.db
      .insertInto('refresh_tokens')
      .values({
        id: t.id,
        user_id: t.userId,
        family_id: t.familyId,
        token_hash: t.tokenHash,
        expires_at: t.expiresAt,
        used_at: null,
        revoked_at: null,
      })
      .execute();
  }

  findRefreshToken(tokenHash: string): Promise<RefreshTokenRow | undefined> {
    return this.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /** Marks the token used; false if it was already used or revoked (a concurrent refresh won). */
  async markUsed(id: string, at: Date): Promise<boolean> {
    const r = await this.db
      .updateTable('refresh_tokens')
      .set({ used_at: at })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Ends a login: revokes every refresh token of the family and logs the revocation for every
   * gateway (`credential_revocations`), in one statement, so neither happens without the other.
   */
  async revokeFamily(familyId: string, at: Date): Promise<void> {
    await this.db
      .with('revoked', (db) =>
        db
          .updateTable('refresh_tokens')
          .set({ revoked_at: at })
          .where('family_id', '=', familyId)
          .where('revoked_at', 'is', null)
          .returning('id'),
      )
      .insertInto('credential_revocations')
      .values({ kind: 'login', subject: familyId })
      .execute();
  }
}
