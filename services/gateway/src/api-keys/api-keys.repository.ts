import type { ApiKeyRow, Database } from '@quorum/db';
import { sql, type Kysely } from 'kysely';

export class ApiKeysRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(k: {
    id: string;
    orgId: string;
    name: string;
    role: string;
    secretHash: string;
    createdBy: string;
  }): Promise<ApiKeyRow> {
    return this.db
      .insertInto('api_keys')
      .values({
        id: k.id,
        org_id: k.orgId,
        name: k.name,
        role: k.role,
        secret_hash: k.secretHash,
        created_by: k.createdBy,
        last_used_at: null,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  findById(id: string): Promise<ApiKeyRow | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listByOrg(orgId: string): Promise<ApiKeyRow[]> {
    return this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('created_at', 'desc')
      .execute();
  }

  /**
   * Revokes the key and logs the revocation for every gateway (`credential_revocations`) in one
   * statement. False when the key does not exist in that organization or was already revoked.
   */
  async revoke(orgId: string, id: string, at: Date): Promise<boolean> {
    const rows = await this.db
      .with('revoked', (db) =>
        db
          .updateTable('api_keys')
          .set({ revoked_at: at })
          .where('id', '=', id)
          .where('org_id', '=', orgId)
          .where('revoked_at', 'is', null)
          .returning('id'),
      )
      .insertInto('credential_revocations')
      .columns(['kind', 'subject'])
      .expression((db) =>
        db
          .selectFrom('revoked')
          .select([sql<string>`'apiKey'`.as('kind'), sql<string>`revoked.id::text`.as('subject')]),
      )
      .returning('id')
      .execute();
    return rows.length === 1;
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}
