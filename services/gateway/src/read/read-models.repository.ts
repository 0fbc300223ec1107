/**
 * Queries over the projector's read models. Reads go to the active projection version's
 * schema, so a rebuild switches them atomically.
 */
import { readModelSchema, type Database } from '@quorum/db';
import { sql, type Kysely } from 'kysely';
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres';

export const PROJECTION = 'core';

export class ReadModels {
  private active: { version: number; readAt: number } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: { activeVersionTtlMs?: number } = {},
  ) {}

  /** The active read-model version (cached briefly; a rebuild switches it rarely). */
  async activeVersion(): Promise<number> {
    const ttl = this.options.activeVersionTtlMs ?? 1_000;
    if (this.active && Date.now() - this.active.readAt < ttl) return this.active.version;
    const row = await this.db
      .selectFrom('projection_active')
      .select('version')
      .where('projection', '=', PROJECTION)
      .executeTakeFirst();
    this.active = { version: row?.version ?? 1, readAt: Date.now() };
    return this.active.version;
  }

  private async rm(): Promise<Kysely<Database>> {
    return this.db.withSchema(readModelSchema(await this.activeVersion()));
  }

  async memberRole(orgId: string, userId: string): Promise<string | undefined> {
    const db = await this.rm();
    const row = await db
      .selectFrom('members')
      .select('role')
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.role;
  }

  async organization(orgId: string) {
    const db = await this.rm();
    return db
      .selectFrom('organizations as o')
      .innerJoin('entitlements as e', 'e.org_id', 'o.org_id')
      .select([
        'o.org_id',
        'o.name',
        'o.plan',
        'o.status',
        'o.trial_ends_at',
        'o.owner_user_id',
        'o.created_at',
        'o.updated_at',
        'e.max_seats',
        'e.max_participants_per_meeting',
        'e.meeting_minutes_per_month',
        'e.recording',
        'e.api_access',
      ])
      .where('o.org_id', '=', orgId)
      .executeTakeFirst();
  }

  async organizationsOf(userId: string) {
    const db = await this.rm();
    return db
      .selectFrom('members as m')
      .innerJoin('organizations as o', 'o.org_id', 'm.org_id')
      .select(['o.org_id', 'o.name', 'o.plan', 'o.status', 'm.role'])
      .where('m.user_id', '=', userId)
      .orderBy('o.name')
      .execute();
  }

  async members(orgId: string) {
    const db = await this.rm();
    const [members, invitations] = await Promise.all([
      db
        .selectFrom('members as m')
        .leftJoin('seat_assignments as s', (j) =>
          j.onRef('s.org_id', '=', 'm.org_id').onRef('s.user_id', '=', 'm.user_id'),
        )
        .select(['m.user_id', 'm.email', 'm.role', 'm.joined_at', 's.assigned_at'])
        .where('m.org_id', '=', orgId)
        .orderBy('m.joined_at')
        .execute(),
      db
        .selectFrom('invitations')
        .selectAll()
        .where('org_id', '=', orgId)
        .where('status', '=', 'pending')
        .orderBy('created_at')
        .execute(),
    ]);
    return { members, invitations };
  }

  /**
   * The seat counts, plan cap and assignments in one statement: one round trip and one pooled
   * connection instead of three (a read-your-writes read after every seat command).
   */
  /** The seats, the plan's cap and the assignments; with `viewer`, that member's role too (one statement). */
  async seats(orgId: string, viewer?: string) {
    const db = await this.rm();
    const row = await db
      .selectNoFrom((eb) => [
        (viewer === undefined
          ? sql<string | null>`null`
          : eb.selectFrom('members').select('role').where('org_id', '=', orgId).where('user_id', '=', viewer)
        ).as('role'),
        jsonObjectFrom(eb.selectFrom('seats').select(['purchased', 'assigned']).where('org_id', '=', orgId)).as(
          'seats',
        ),
        jsonObjectFrom(eb.selectFrom('entitlements').select(['plan', 'max_seats']).where('org_id', '=', orgId)).as(
          'entitlements',
        ),
        jsonArrayFrom(
          eb
            .selectFrom('seat_assignments as s')
            .innerJoin('members as m', (j) => j.onRef('m.org_id', '=', 's.org_id').onRef('m.user_id', '=', 's.user_id'))
            .select(['s.user_id', 'm.email', 's.assigned_at'])
            .where('s.org_id', '=', orgId)
            .orderBy('s.assigned_at'),
        ).as('assignments'),
      ])
      .executeTakeFirstOrThrow();
    return {
      role: row.role ?? undefined,
      seats: row.seats ?? undefined,
      // In JSON, `assigned_at` comes as text.
      assignments: row.assignments as Array<{ user_id: string; email: string; assigned_at: Date | string }>,
      entitlements: row.entitlements ?? undefined,
    };
  }

  async events(
    orgId: string,
    q: { after?: bigint; before?: bigint; order: 'asc' | 'desc'; limit: number; types?: readonly string[] },
  ) {
    const db = await this.rm();
    let query = db
      .selectFrom('event_log')
      .select(['org_id', 'position', 'event_id', 'type', 'stream_id', 'revision', 'data', 'metadata', 'occurred_at'])
      .where('org_id', '=', orgId);
    if (q.after !== undefined) query = query.where('position', '>', q.after.toString());
    if (q.before !== undefined) query = query.where('position', '<', q.before.toString());
    if (q.types && q.types.length > 0) query = query.where('type', 'in', [...q.types]);
    return query.orderBy('position', q.order).limit(q.limit).execute();
  }

  /** One meeting of `orgId` with the participants in it now. */
  async meeting(orgId: string, sessionId: string) {
    const db = await this.rm();
    const [meeting, participants] = await Promise.all([
      db
        .selectFrom('meetings')
        .selectAll()
        .where('org_id', '=', orgId)
        .where('session_id', '=', sessionId)
        .executeTakeFirst(),
      db
        .selectFrom('meeting_participants')
        .select(['participant_id', 'display_name', 'is_host', 'joined_at'])
        .where('session_id', '=', sessionId)
        .where('org_id', '=', orgId)
        .where('left_at', 'is', null)
        .orderBy('joined_at')
        .execute(),
    ]);
    return meeting ? { meeting, participants } : undefined;
  }

  /**
   * Meetings of `orgId`, newest first. Ended ones carry their duration and the participant
   * time summed over every stint (a participant who left and came back counts each stint).
   */
  async meetings(orgId: string, q: { status?: 'scheduled' | 'live' | 'ended'; limit: number }) {
    const db = await this.rm();
    let query = db
      .selectFrom('meetings as m')
      .selectAll('m')
      .select((eb) => [
        sql<number | null>`EXTRACT(EPOCH FROM (m.ended_at - m.started_at))::float8`.as('duration_seconds'),
        eb
          .selectFrom('meeting_participants as p')
          .select(
            sql<number>`COALESCE(SUM(EXTRACT(EPOCH FROM (COALESCE(p.left_at, m.ended_at, now()) - p.joined_at))), 0)::float8`.as(
              's',
            ),
          )
          .whereRef('p.session_id', '=', 'm.session_id')
          .as('participant_seconds'),
        eb
          .selectFrom('meeting_participants as p')
          .select(sql<number>`count(DISTINCT p.participant_id)::int`.as('n'))
          .whereRef('p.session_id', '=', 'm.session_id')
          .as('distinct_participants'),
      ])
      .where('m.org_id', '=', orgId);
    if (q.status) query = query.where('m.status', '=', q.status);
    return query.orderBy('m.created_at', 'desc').limit(q.limit).execute();
  }

  /** Live meetings nobody is in (candidates for ending after the grace period), any organization. */
  async emptyLiveMeetings(limit = 100) {
    const db = await this.rm();
    return db
      .selectFrom('meetings')
      .select(['session_id', 'org_id'])
      .where('status', '=', 'live')
      .where('participants_now', '=', 0)
      .limit(limit)
      .execute();
  }

  /**
   * Participants in the meeting now through an SFU node run other than `liveRuns` (candidates
   * for a leave once that run is known lost), any organization, oldest stints first.
   */
  async participantsOffRuns(liveRuns: readonly string[], limit = 1000) {
    const db = await this.rm();
    let query = db
      .selectFrom('meeting_participants')
      .select(['session_id', 'org_id', 'participant_id', 'node'])
      .where('left_at', 'is', null)
      .where('node', 'is not', null);
    if (liveRuns.length > 0) query = query.where('node', 'not in', [...liveRuns]);
    return query.orderBy('joined_at').limit(limit).execute() as Promise<
      Array<{ session_id: string; org_id: string; participant_id: string; node: string }>
    >;
  }

  /** For readiness: the read-model schema answers. */
  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }
}
