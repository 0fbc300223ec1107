import type { CredentialRevocationRow, Database } from '@quorum/db';
import { sql, type Kysely } from 'kysely';

export type RevocationKind = 'login' | 'apiKey' | 'member';

export interface Revocation {
  kind: RevocationKind;
  /** A login's family id, an API key id, or `<orgId>:<userId>` for a membership. */
  subject: string;
}

/** The shared log of credentials taken away (`credential_revocations`). */
export class RevocationsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(revocations: Revocation[]): Promise<void> {
    if (revocations.length === 0) return;
    await this.db.insertInto('credential_revocations').values(revocations).execute();
  }

  /**
   * Rows logged after `since` (by the database's clock), and that clock now: the next poll asks
   * from a little before it, so a row committed just after its timestamp is not missed.
   */
  async since(since: Date): Promise<{ rows: CredentialRevocationRow[]; now: Date }> {
    const [rows, clock] = await Promise.all([
      this.db.selectFrom('credential_revocations').selectAll().where('at', '>', since).orderBy('id').execute(),
      sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(this.db),
    ]);
    return { rows, now: new Date(clock.rows[0]!.now) };
  }

  /** The database's clock, which every gateway's polls share. */
  async clock(): Promise<Date> {
    const { rows } = await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(this.db);
    return new Date(rows[0]!.now);
  }

  /** Logins revoked within `seconds` (their access tokens may still be alive). */
  recentLogins(seconds: number): Promise<CredentialRevocationRow[]> {
    return this.db
      .selectFrom('credential_revocations')
      .selectAll()
      .where('kind', '=', 'login')
      .where('at', '>', sql<Date>`clock_timestamp() - make_interval(secs => ${seconds})`)
      .execute();
  }

  async pruneOlderThan(seconds: number): Promise<void> {
    await this.db
      .deleteFrom('credential_revocations')
      .where('at', '<', sql<Date>`clock_timestamp() - make_interval(secs => ${seconds})`)
      .execute();
  }
}
