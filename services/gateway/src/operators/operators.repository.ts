/**
 * The `operators` table: grants of Quorum's operator access, written by the command line
 * (`operators-cli.ts`) and read by every gateway on each finance call.
 */
import type { Database } from '@quorum/db';
import { sql, type Kysely } from 'kysely';

/** A user as operator access sees them: their address, whether it is proven, and an open grant. */
export interface OperatorStanding {
  userId: string;
  email: string;
  emailVerified: boolean;
  granted: boolean;
}

/** A grant, open or revoked, with the grantee's address. */
export interface OperatorGrant {
  userId: string;
  email: string;
  grantedAt: Date;
  grantedBy: string;
  revokedAt: Date | null;
  revokedBy: string | null;
}

export class OperatorsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The user `userId` and whether they hold an open grant: one indexed query. */
  async standing(userId: string): Promise<OperatorStanding | undefined> {
    const row = await this.db
      .selectFrom('users as u')
      .select([
        'u.id',
        'u.email',
        sql<boolean>`u.email_verified_at IS NOT NULL`.as('email_verified'),
        sql<boolean>`EXISTS (SELECT 1 FROM operators o WHERE o.user_id = u.id AND o.revoked_at IS NULL)`.as('granted'),
      ])
      .where('u.id', '=', userId)
      .executeTakeFirst();
    return row && { userId: row.id, email: row.email, emailVerified: row.email_verified, granted: row.granted };
  }

  /** The user with this id or (lower-cased) address. */
  async findUser(idOrEmail: { id: string } | { email: string }): Promise<OperatorStanding | undefined> {
    const query = this.db.selectFrom('users').select('id');
    const row = await (
      'id' in idOrEmail ? query.where('id', '=', idOrEmail.id) : query.where('email', '=', idOrEmail.email)
    ).executeTakeFirst();
    return row && this.standing(row.id);
  }

  /** Opens a grant for `userId`; false when one is open already (nothing changes). */
  async grant(userId: string, by: string): Promise<boolean> {
    const inserted = await this.db
      .insertInto('operators')
      .values({ user_id: userId, granted_by: by })
      .onConflict((oc) => oc.column('user_id').where('revoked_at', 'is', null).doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  /** Closes the open grant of `userId`; false when there was none. */
  async revoke(userId: string, by: string): Promise<boolean> {
    const closed = await this.db
      .updateTable('operators')
      .set({ revoked_at: sql<Date>`now()`, revoked_by: by })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return closed.numUpdatedRows > 0n;
  }

  /** Open grants, or every grant with `all`, oldest first. */
  async list(options: { all?: boolean } = {}): Promise<OperatorGrant[]> {
    let query = this.db
      .selectFrom('operators as o')
      .innerJoin('users as u', 'u.id', 'o.user_id')
      .select(['o.user_id', 'u.email', 'o.granted_at', 'o.granted_by', 'o.revoked_at', 'o.revoked_by'])
      .orderBy('o.id');
    if (!options.all) query = query.where('o.revoked_at', 'is', null);
    const rows = await query.execute();
    return rows.map((r) => ({
      userId: r.user_id,
      email: r.email,
      grantedAt: new Date(r.granted_at),
      grantedBy: r.granted_by,
      revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at),
      revokedBy: r.revoked_by,
    }));
  }
}
