/**
 * The endpoints' secrets (`webhook_secrets`, the gateway's own table, read by the delivery
 * engine) and their read model (`webhook_endpoints`, the projector's). Secrets never leave
 * this module but in answers to `webhooks.create`, `rotateSecret` and `revealSecret`.
 */
import { readModelSchema, type Database, type WebhookEndpointRow } from '@quorum/db';
import { sql, type Kysely } from 'kysely';

/** An endpoint as the read model holds it. */
export interface EndpointView {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  status: 'enabled' | 'paused' | 'disabled' | 'deleted';
  disabledReason: 'gone' | 'failing' | null;
  createdAt: string;
  updatedAt: string;
  secretRotatedAt: string | null;
  /** Position of the last event applied to it. */
  position: string;
}

const iso = (d: Date | string) => new Date(d).toISOString();

function toView(row: WebhookEndpointRow): EndpointView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.event_types,
    status: row.status as EndpointView['status'],
    disabledReason: row.disabled_reason as EndpointView['disabledReason'],
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    secretRotatedAt: row.secret_rotated_at === null ? null : iso(row.secret_rotated_at),
    position: String(row.position),
  };
}

export class WebhooksRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly activeVersion: () => Promise<number>,
  ) {}

  private async rm(): Promise<Kysely<Database>> {
    return this.db.withSchema(readModelSchema(await this.activeVersion()));
  }

  /** The organization's endpoints, oldest first; deleted ones only when asked. */
  async list(orgId: string, options: { includeDeleted: boolean }): Promise<EndpointView[]> {
    const db = await this.rm();
    let query = db.selectFrom('webhook_endpoints').selectAll().where('org_id', '=', orgId);
    if (!options.includeDeleted) query = query.where('status', '!=', 'deleted');
    return (await query.orderBy('created_at').orderBy('id').execute()).map(toView);
  }

  /** One endpoint of the organization (deleted included), or undefined. */
  async get(orgId: string, endpointId: string): Promise<EndpointView | undefined> {
    const db = await this.rm();
    const row = await db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', endpointId)
      .executeTakeFirst();
    return row && toView(row);
  }

  /**
   * Stores `secret` as the endpoint's current one unless it has one already (a retried create
   * keeps the first attempt's), and answers the current secret and whether it was this one.
   */
  async ensureFirstSecret(
    orgId: string,
    endpointId: string,
    secret: string,
    at: Date,
  ): Promise<{ secret: string; createdAt: Date; inserted: boolean }> {
    const inserted = await this.db
      .insertInto('webhook_secrets')
      .values({ endpoint_id: endpointId, org_id: orgId, secret, created_at: at, expires_at: null })
      .onConflict((oc) => oc.column('endpoint_id').where('expires_at', 'is', null).doNothing())
      .returning(['secret', 'created_at'])
      .executeTakeFirst();
    if (inserted) return { secret: inserted.secret, createdAt: inserted.created_at, inserted: true };
    const current = await this.current(orgId, endpointId);
    if (!current) throw new Error(`endpoint ${endpointId} has a current secret in another organization`);
    return { ...current, inserted: false };
  }

  /** Removes a first secret whose endpoint was then refused. */
  async forgetSecret(orgId: string, endpointId: string, createdAt: Date): Promise<void> {
    await this.db
      .deleteFrom('webhook_secrets')
      .where('endpoint_id', '=', endpointId)
      .where('org_id', '=', orgId)
      .where('created_at', '=', createdAt)
      .execute();
  }

  /**
   * Makes `secret` the current one as of `at`; every earlier secret signs until
   * `previousValidUntil` at the latest (a rotation with no overlap ends them all at once).
   */
  async rotate(orgId: string, endpointId: string, secret: string, at: Date, previousValidUntil: Date): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('webhook_secrets')
        .set({ expires_at: previousValidUntil })
        .where('endpoint_id', '=', endpointId)
        .where('org_id', '=', orgId)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', previousValidUntil)]))
        .execute();
      await trx
        .insertInto('webhook_secrets')
        .values({ endpoint_id: endpointId, org_id: orgId, secret, created_at: at, expires_at: null })
        .execute();
    });
  }

  /** The current secret, or undefined when the endpoint has none (deleted, or not this organization's). */
  async current(orgId: string, endpointId: string): Promise<{ secret: string; createdAt: Date } | undefined> {
    const row = await this.db
      .selectFrom('webhook_secrets')
      .select(['secret', 'created_at'])
      .where('endpoint_id', '=', endpointId)
      .where('org_id', '=', orgId)
      .where('expires_at', 'is', null)
      .executeTakeFirst();
    return row && { secret: row.secret, createdAt: row.created_at };
  }

  /** Until when a rotated-out secret still signs, if one does at `now`. */
  async previousValidUntil(orgId: string, endpointId: string, now: Date): Promise<Date | null> {
    const row = await this.db
      .selectFrom('webhook_secrets')
      .select(sql<Date | null>`max(expires_at)`.as('until'))
      .where('endpoint_id', '=', endpointId)
      .where('org_id', '=', orgId)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row?.until ? new Date(row.until) : null;
  }

  /** Every secret that signs at `now`, newest first: the current one and those still in their overlap. */
  async signing(orgId: string, endpointId: string, now: Date): Promise<string[]> {
    const rows = await this.db
      .selectFrom('webhook_secrets')
      .select('secret')
      .where('endpoint_id', '=', endpointId)
      .where('org_id', '=', orgId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map((r) => r.secret);
  }

  /** Drops a deleted endpoint's secrets: nothing is signed for it any more. */
  async dropSecrets(orgId: string, endpointId: string): Promise<void> {
    await this.db
      .deleteFrom('webhook_secrets')
      .where('endpoint_id', '=', endpointId)
      .where('org_id', '=', orgId)
      .execute();
  }
}
