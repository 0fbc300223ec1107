import type { Database } from '@quorum/db';
import { sql, type Kysely } from 'kysely';

/** How often spent tokens past their expiry are deleted (by whichever report comes then). */
const PRUNE_EVERY_MS = 60_000;

/** Join tokens already presented (`used_join_tokens`), remembered until they expire. */
export class JoinTokensRepository {
  private lastPrune = 0;

  constructor(private readonly db: Kysely<Database>) {}

  /** Marks the token used; false when it was used before. */
  async use(jti: string, expiresAt: Date, now: Date): Promise<boolean> {
    if (now.getTime() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = now.getTime();
      await this.db
        .deleteFrom('used_join_tokens')
        .where('expires_at', '<', sql<Date>`now()`)
        .execute();
    }
    const rows = await this.db
      .insertInto('used_join_tokens')
      .values({ jti, expires_at: expiresAt })
      .onConflict((oc) => oc.column('jti').doNothing())
      .returning('jti')
      .execute();
    return rows.length === 1;
  }
}
