import type { Database, EmailTokenRow } from '@quorum/db';
import type { Kysely } from 'kysely';

export type EmailTokenPurpose = 'email' | 'invitation';

export class EmailTokensRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** False when the same token was stored before (a retried command that derives it again). */
  async insert(t: {
    tokenHash: string;
    purpose: EmailTokenPurpose;
    subject: string;
    email: string;
    orgId: string | null;
    expiresAt: Date;
  }): Promise<boolean> {
    const rows = await this.db
      .insertInto('email_tokens')
      .values({
        token_hash: t.tokenHash,
        purpose: t.purpose,
        subject: t.subject,
        email: t.email,
        org_id: t.orgId,
        expires_at: t.expiresAt,
        used_at: null,
      })
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .returning('token_hash')
      .execute();
    return rows.length === 1;
  }

  /** The unused, unexpired token with this hash and purpose. */
  findUsable(purpose: EmailTokenPurpose, tokenHash: string, now: Date): Promise<EmailTokenRow | undefined> {
    return this.db
      .selectFrom('email_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
  }

  /** Uses the token up; the row, or undefined when it was not usable (used meanwhile, expired). */
  use(purpose: EmailTokenPurpose, tokenHash: string, now: Date): Promise<EmailTokenRow | undefined> {
    return this.db
      .updateTable('email_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
  }
}
