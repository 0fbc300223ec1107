/**
 * The `core` projection: organizations, entitlements, members, invitations, seats, seat
 * assignments and the per-organization event log, in one read-model schema (`rm_v<N>`).
 *
 * Set-based: a batch of events is folded in memory into one final operation per row key
 * (insert, update, delete, replace), then each table is written with one statement whose rows
 * arrive as a single JSON parameter (`jsonb_to_recordset`). A batch of a thousand events costs
 * about fifteen statements instead of three per event, and lands on exactly the rows that
 * applying the events one by one would.
 *
 * Idempotency: the event log rows (org_id, position) are inserted first, in the same
 * transaction as every other write; an event whose row already exists was applied to this
 * schema before and has no further effect. Counts (`seats.assigned`) are recounted from the
 * assignment rows, never incremented.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '@quorum/db';
import {
  assertUnreachable,
  entitlementsFor,
  initialStatusFor,
  isDomainEventType,
  parseEvent,
  type DomainEvent,
  type Plan,
  type SessionEvent,
} from '@quorum/domain';
import type { WireEvent } from '@quorum/eventstore';

/** Name of the projection in the bookkeeping tables. */
export const CORE_PROJECTION = 'core';

/** `applied`: written now; `duplicate`: this position was already in the schema's event log. */
export type ApplyOutcome = 'applied' | 'duplicate';

type Trx = Transaction<Database>;
type OrgStatus = 'active' | 'past_due' | 'suspended' | 'closed';

/**
 * The final operation on one keyed row after folding a batch. `insert` is insert-if-absent;
 * `pre` is an update that came before it (it only reaches a row that existed before the
 * batch), `post` one that came after (it reaches the row whichever way it got there).
 */
type RowOp<Row> =
  | { kind: 'insert'; row: Row; pre?: Partial<Row>; post?: Partial<Row> }
  | { kind: 'replace'; row: Row }
  | { kind: 'update'; set: Partial<Row> }
  | { kind: 'delete' };

type Op<Row> = { kind: 'insert' | 'upsert'; row: Row } | { kind: 'update'; set: Partial<Row> } | { kind: 'delete' };

/**
 * Folds one more operation onto what the batch already did to a row, exactly as applying
 * them in sequence would: `insert` is insert-if-absent, `upsert` overwrites, `update`
 * touches an existing row only, `delete` removes it.
 */
function fold<Row>(prev: RowOp<Row> | undefined, next: Op<Row>): RowOp<Row> {
  switch (next.kind) {
    case 'delete':
      return { kind: 'delete' };
    case 'upsert':
      return { kind: 'replace', row: next.row };
    case 'insert':
      if (prev === undefined) return { kind: 'insert', row: next.row };
      // After a delete in this batch the row is certainly absent: the insert lands.
      if (prev.kind === 'delete') return { kind: 'replace', row: next.row };
      // The row already exists: insert-if-absent does nothing.
      if (prev.kind === 'insert' || prev.kind === 'replace') return prev;
      return { kind: 'insert', row: next.row, pre: prev.set };
    case 'update':
      if (prev === undefined) return { kind: 'update', set: next.set };
      if (prev.kind === 'delete') return prev;
      if (prev.kind === 'update') return { kind: 'update', set: { ...prev.set, ...next.set } };
      if (prev.kind === 'replace') return { kind: 'replace', row: { ...prev.row, ...next.set } };
      return { ...prev, post: { ...prev.post, ...next.set } };
    default:
      return assertUnreachable(next);
  }
}

interface OrgRow {
  org_id: string;
  name: string;
  plan: Plan;
  status: string;
  trial_ends_at: string | null;
  owner_user_id: string;
  created_at: string;
  updated_at: string;
}
interface MemberRow {
  org_id: string;
  user_id: string;
  email: string;
  role: string;
  joined_at: string;
}
interface InvitationRow {
  invitation_id: string;
  org_id: string;
  email: string;
  role: string;
  status: 'pending' | 'accepted';
  invited_by: string;
  expires_at: string;
  created_at: string;
}
interface AssignmentRow {
  org_id: string;
  user_id: string;
  assigned_at: string;
}

/** What a batch does, keyed by row. */
class WritePlan {
  readonly log: Array<Record<string, unknown>> = [];
  readonly orgs = new Map<string, RowOp<OrgRow>>();
  readonly plans = new Map<string, Plan>();
  readonly seatsTouched = new Set<string>();
  readonly purchased = new Map<string, number>();
  readonly members = new Map<string, RowOp<MemberRow>>();
  readonly invitations = new Map<string, RowOp<InvitationRow>>();
  readonly assignments = new Map<string, RowOp<AssignmentRow>>();
  /** Session (meeting) events in order; few per batch, applied one statement or two each. */
  readonly sessionEvents: Array<{ orgId: string; streamId: string; at: string; event: SessionEvent }> = [];

  org(orgId: string, op: Op<OrgRow>) {
    this.orgs.set(orgId, fold(this.orgs.get(orgId), op));
  }
  member(orgId: string, userId: string, op: Op<MemberRow>) {
    const key = `${orgId}|${userId}`;
    this.members.set(key, fold(this.members.get(key), op));
  }
  invitation(id: string, op: Op<InvitationRow>) {
    this.invitations.set(id, fold(this.invitations.get(id), op));
  }
  assignment(orgId: string, userId: string, op: Op<AssignmentRow>) {
    const key = `${orgId}|${userId}`;
    this.assignments.set(key, fold(this.assignments.get(key), op));
    this.seatsTouched.add(orgId);
  }
}

function parse(event: WireEvent): DomainEvent | undefined {
  return isDomainEventType(event.type)
    ? parseEvent({ type: event.type, version: event.version, data: event.data })
    : undefined;
}

function plan(w: WritePlan, orgId: string, streamId: string, at: string, domainEvent: DomainEvent): void {
  const status = (s: OrgStatus, clearTrial = false) =>
    w.org(orgId, {
      kind: 'update',
      set: { status: s, updated_at: at, ...(clearTrial ? { trial_ends_at: null } : {}) },
    });
  switch (domainEvent.type) {
    case 'organization.created': {
      const d = domainEvent.data;
      if (d.orgId !== orgId) throw new Error(`organization.created for ${d.orgId} carries envelope orgId ${orgId}`);
      const initial = initialStatusFor(d.plan);
      w.org(orgId, {
        kind: 'insert',
        row: {
          org_id: orgId,
          name: d.name,
          plan: d.plan,
          status: initial,
          trial_ends_at: initial === 'trialing' ? d.trialEndsAt : null,
          owner_user_id: d.ownerUserId,
          created_at: at,
          updated_at: at,
        },
      });
      w.plans.set(orgId, d.plan);
      w.seatsTouched.add(orgId);
      return;
    }
    case 'organization.plan_changed':
      w.org(orgId, { kind: 'update', set: { plan: domainEvent.data.to, updated_at: at } });
      w.plans.set(orgId, domainEvent.data.to);
      return;
    case 'organization.activated':
      // A paid subscription replaces the trial: there is no trial end any more.
      return status('active', true);
    case 'organization.reactivated':
      return status('active');
    case 'organization.marked_past_due':
      return status('past_due');
    case 'organization.suspended':
      return status('suspended');
    case 'organization.closed':
      return status('closed');
    case 'member.invited': {
      const d = domainEvent.data;
      w.invitation(d.invitationId, {
        kind: 'insert',
        row: {
          invitation_id: d.invitationId,
          org_id: orgId,
          email: d.email,
          role: d.role,
          status: 'pending',
          invited_by: d.invitedBy,
          expires_at: d.expiresAt,
          created_at: at,
        },
      });
      return;
    }
    case 'member.joined': {
      const d = domainEvent.data;
      w.member(orgId, d.userId, {
        kind: 'upsert',
        row: { org_id: orgId, user_id: d.userId, email: d.email, role: d.role, joined_at: at },
      });
      if (d.invitationId !== null) w.invitation(d.invitationId, { kind: 'update', set: { status: 'accepted' } });
      return;
    }
    case 'member.role_changed':
      w.member(orgId, domainEvent.data.userId, { kind: 'update', set: { role: domainEvent.data.to } });
      return;
    case 'member.removed':
      w.member(orgId, domainEvent.data.userId, { kind: 'delete' });
      // The domain appends seat.unassigned first; this covers streams written before it did.
      w.assignment(orgId, domainEvent.data.userId, { kind: 'delete' });
      return;
    case 'seats.purchased':
    case 'seats.released':
      w.purchased.set(orgId, domainEvent.data.total);
      w.seatsTouched.add(orgId);
      return;
    case 'seat.assigned':
      w.assignment(orgId, domainEvent.data.userId, {
        kind: 'insert',
        row: { org_id: orgId, user_id: domainEvent.data.userId, assigned_at: at },
      });
      return;
    case 'seat.unassigned':
      w.assignment(orgId, domainEvent.data.userId, { kind: 'delete' });
      return;
    case 'api_key.created':
    case 'api_key.revoked':
      // Keys themselves live in the gateway's table; the log is their audit trail.
      return;
    case 'session.scheduled':
    case 'session.started':
    case 'participant.joined':
    case 'participant.left':
    case 'participant.reconnected':
    case 'session.locked':
    case 'session.unlocked':
    case 'participant.muted':
    case 'participant.removed':
    case 'session.ended':
      w.sessionEvents.push({ orgId, streamId, at, event: domainEvent });
      return;
    default:
      return assertUnreachable(domainEvent);
  }
}

const json = (rows: unknown[]) => JSON.stringify(rows);

/**
 * Applies `events` (in position order) to the read models of `schema`, inside `trx`.
 * @throws when the data of a known event type fails validation (after upcasting) or an
 *   envelope is inconsistent; nothing is written then (parsing happens before any write),
 *   and the caller can apply the events one by one to find the poison.
 */
export async function applyEvents(trx: Trx, schema: string, events: readonly WireEvent[]): Promise<ApplyOutcome[]> {
  if (events.length === 0) return [];
  const parsed = events.map(parse);
  const t = (name: string) => sql.table(`${schema}.${name}`);

  const logged = await sql<{ position: string }>`
    INSERT INTO ${t('event_log')} (org_id, position, event_id, type, stream_id, revision, data, metadata, occurred_at)
    SELECT v.org_id, v.position, v.event_id, v.type, v.stream_id, v.revision, v.data, v.metadata, v.occurred_at
      FROM jsonb_to_recordset(${json(
        events.map((e) => ({
          org_id: e.orgId,
          position: e.position,
          event_id: e.id,
          type: e.type,
          stream_id: e.streamId,
          revision: e.revision,
          data: e.data ?? null,
          metadata: {
            version: e.version,
            actor: e.actor,
            correlationId: e.correlationId,
            causationId: e.causationId,
            traceparent: e.traceparent,
          },
          occurred_at: e.occurredAt,
        })),
      )}::jsonb) AS v(org_id uuid, position bigint, event_id uuid, type text, stream_id text, revision bigint, data jsonb, metadata jsonb, occurred_at timestamptz)
    ON CONFLICT (org_id, position) DO NOTHING
    RETURNING position`.execute(trx);
  const fresh = new Set(logged.rows.map((r) => String(r.position)));

  const w = new WritePlan();
  const outcomes = events.map((e, i): ApplyOutcome => {
    if (!fresh.has(e.position)) return 'duplicate';
    const domainEvent = parsed[i];
    // Event types this code does not know (newer producers, other categories) only go to the log.
    if (domainEvent) plan(w, e.orgId, e.streamId, e.occurredAt, domainEvent);
    return 'applied';
  });
  await flush(trx, t, w);
  return outcomes;
}

/** Applies one event; see {@link applyEvents}. */
export async function applyEvent(trx: Trx, schema: string, event: WireEvent): Promise<ApplyOutcome> {
  const [outcome] = await applyEvents(trx, schema, [event]);
  return outcome!;
}

async function flush(trx: Trx, t: (name: string) => ReturnType<typeof sql.table>, w: WritePlan): Promise<void> {
  await flushKeyed(trx, t('organizations'), w.orgs, ['org_id'], {
    columns:
      'org_id uuid, name text, plan text, status text, trial_ends_at timestamptz, owner_user_id uuid, created_at timestamptz, updated_at timestamptz',
    upsertSet:
      'name = EXCLUDED.name, plan = EXCLUDED.plan, status = EXCLUDED.status, trial_ends_at = EXCLUDED.trial_ends_at, updated_at = EXCLUDED.updated_at',
    updateColumns: { plan: 'text', status: 'text', updated_at: 'timestamptz', trial_ends_at: 'timestamptz' },
  });

  if (w.plans.size > 0) {
    const rows = [...w.plans].map(([orgId, p]) => {
      const e = entitlementsFor(p);
      return {
        org_id: orgId,
        plan: p,
        max_seats: e.maxSeats,
        max_participants_per_meeting: e.maxParticipantsPerMeeting,
        meeting_minutes_per_month: e.meetingMinutesPerMonth,
        recording: e.recording,
        api_access: e.apiAccess,
      };
    });
    await sql`
      INSERT INTO ${t('entitlements')} (org_id, plan, max_seats, max_participants_per_meeting, meeting_minutes_per_month, recording, api_access)
      SELECT org_id, plan, max_seats, max_participants_per_meeting, meeting_minutes_per_month, recording, api_access
        FROM jsonb_to_recordset(${json(rows)}::jsonb)
        AS v(org_id uuid, plan text, max_seats integer, max_participants_per_meeting integer, meeting_minutes_per_month integer, recording boolean, api_access boolean)
      ON CONFLICT (org_id) DO UPDATE SET plan = EXCLUDED.plan, max_seats = EXCLUDED.max_seats,
        max_participants_per_meeting = EXCLUDED.max_participants_per_meeting,
        meeting_minutes_per_month = EXCLUDED.meeting_minutes_per_month,
        recording = EXCLUDED.recording, api_access = EXCLUDED.api_access`.execute(trx);
  }

  await flushKeyed(trx, t('members'), w.members, ['org_id', 'user_id'], {
    columns: 'org_id uuid, user_id uuid, email text, role text, joined_at timestamptz',
    upsertSet: 'email = EXCLUDED.email, role = EXCLUDED.role, joined_at = EXCLUDED.joined_at',
    updateColumns: { role: 'text' },
  });
  await flushKeyed(trx, t('invitations'), w.invitations, ['invitation_id'], {
    columns:
      'invitation_id uuid, org_id uuid, email text, role text, status text, invited_by uuid, expires_at timestamptz, created_at timestamptz',
    upsertSet:
      'org_id = EXCLUDED.org_id, email = EXCLUDED.email, role = EXCLUDED.role, status = EXCLUDED.status, invited_by = EXCLUDED.invited_by, expires_at = EXCLUDED.expires_at, created_at = EXCLUDED.created_at',
    updateColumns: { status: 'text' },
  });
  await flushSessions(trx, t, w.sessionEvents);
  await flushKeyed(trx, t('seat_assignments'), w.assignments, ['org_id', 'user_id'], {
    columns: 'org_id uuid, user_id uuid, assigned_at timestamptz',
    upsertSet: 'assigned_at = EXCLUDED.assigned_at',
    updateColumns: {},
  });

  if (w.seatsTouched.size > 0) {
    const rows = [...w.seatsTouched].map((org_id) => ({ org_id, purchased: w.purchased.get(org_id) ?? null }));
    // One statement: update the organizations that have a row, insert the others. `assigned`
    // is recounted, not incremented, so a repeated assignment cannot inflate it; a null
    // `purchased` (only assignments changed) keeps the stored count.
    await sql`
      WITH v AS (
        SELECT * FROM jsonb_to_recordset(${json(rows)}::jsonb) AS v(org_id uuid, purchased integer)
      ), updated AS (
        UPDATE ${t('seats')} AS s
           SET purchased = COALESCE(v.purchased, s.purchased),
               assigned = (SELECT count(*) FROM ${t('seat_assignments')} a WHERE a.org_id = s.org_id)
          FROM v
         WHERE s.org_id = v.org_id
        RETURNING s.org_id
      )
      INSERT INTO ${t('seats')} (org_id, purchased, assigned)
      SELECT v.org_id, COALESCE(v.purchased, 0), (SELECT count(*) FROM ${t('seat_assignments')} a WHERE a.org_id = v.org_id)
        FROM v
       WHERE v.org_id NOT IN (SELECT org_id FROM updated)
      ON CONFLICT (org_id) DO NOTHING`.execute(trx);
  }
}

/**
 * Writes the final operation of each key: updates that precede an insert, deletes (also the
 * delete half of a replace), inserts-if-absent, upserts of replaced rows, then the remaining
 * updates. Keys are distinct, so statements of different kinds never touch the same row
 * except an insert's own `pre`/`post`, which run in their order.
 */
async function flushKeyed<Row extends object>(
  trx: Trx,
  table: ReturnType<typeof sql.table>,
  ops: Map<string, RowOp<Row>>,
  key: string[],
  shape: { columns: string; upsertSet: string; updateColumns: Record<string, string> },
): Promise<void> {
  if (ops.size === 0) return;
  const inserts: Row[] = [];
  const replaces: Row[] = [];
  const deletes: Record<string, string>[] = [];
  const pre = new Map<string, Array<Record<string, unknown>>>();
  const post = new Map<string, Array<Record<string, unknown>>>();
  const addUpdate = (into: typeof pre, keyValues: Record<string, string>, set: object) => {
    const cols = Object.keys(set).sort();
    for (const c of cols) if (!(c in shape.updateColumns)) throw new Error(`no update path for column ${c}`);
    const group = cols.join(',');
    into.set(group, [...(into.get(group) ?? []), { ...keyValues, ...set }]);
  };
  for (const [k, op] of ops) {
    const parts = k.split('|');
    const keyValues = Object.fromEntries(key.map((name, i) => [name, parts[i]!]));
    switch (op.kind) {
      case 'insert':
        if (op.pre) addUpdate(pre, keyValues, op.pre);
        inserts.push(op.row);
        if (op.post) addUpdate(post, keyValues, op.post);
        break;
      case 'replace':
        replaces.push(op.row);
        break;
      case 'delete':
        deletes.push(keyValues);
        break;
      case 'update':
        addUpdate(post, keyValues, op.set);
        break;
      default:
        assertUnreachable(op);
    }
  }
  const keyCols = key.join(', ');
  const names = shape.columns
    .split(',')
    .map((c) => c.trim().split(' ')[0]!)
    .join(', ');
  const keyTypes = key.map((k) => `${k} ${k.endsWith('_id') ? 'uuid' : 'text'}`).join(', ');
  const keyMatch = key.map((k) => `t.${k} = v.${k}`).join(' AND ');
  const runUpdates = async (groups: typeof pre) => {
    for (const [columns, rows] of groups) {
      const cols = columns.split(',');
      const types = cols.map((c) => `${c} ${shape.updateColumns[c]}`).join(', ');
      const assignments = cols.map((c) => `${c} = v.${c}`).join(', ');
      await sql`UPDATE ${table} AS t SET ${sql.raw(assignments)}
                  FROM jsonb_to_recordset(${json(rows)}::jsonb) AS v(${sql.raw(`${keyTypes}, ${types}`)})
                 WHERE ${sql.raw(keyMatch)}`.execute(trx);
    }
  };
  await runUpdates(pre);
  if (deletes.length > 0) {
    await sql`DELETE FROM ${table} AS t USING jsonb_to_recordset(${json(deletes)}::jsonb) AS v(${sql.raw(keyTypes)})
               WHERE ${sql.raw(keyMatch)}`.execute(trx);
  }
  if (inserts.length > 0) {
    await sql`INSERT INTO ${table} (${sql.raw(names)}) SELECT ${sql.raw(names)} FROM jsonb_to_recordset(${json(inserts)}::jsonb) AS v(${sql.raw(shape.columns)})
               ON CONFLICT (${sql.raw(keyCols)}) DO NOTHING`.execute(trx);
  }
  if (replaces.length > 0) {
    await sql`INSERT INTO ${table} (${sql.raw(names)}) SELECT ${sql.raw(names)} FROM jsonb_to_recordset(${json(replaces)}::jsonb) AS v(${sql.raw(shape.columns)})
               ON CONFLICT (${sql.raw(keyCols)}) DO UPDATE SET ${sql.raw(shape.upsertSet)}`.execute(trx);
  }
  await runUpdates(post);
}

const SESSION_PREFIX = 'session-';

/**
 * Meetings and their participants, one event at a time in order (a meeting has a handful of
 * events, not thousands). Each participant stint is a row; the live count is recounted from
 * the open stints, never incremented, so a replayed event cannot skew it.
 */
async function flushSessions(
  trx: Trx,
  t: (name: string) => ReturnType<typeof sql.table>,
  events: WritePlan['sessionEvents'],
): Promise<void> {
  const recount = (sessionId: string) =>
    sql`
    UPDATE ${t('meetings')} AS m
       SET participants_now = c.n, peak_participants = GREATEST(m.peak_participants, c.n)
      FROM (SELECT count(*)::int AS n FROM ${t('meeting_participants')} WHERE session_id = ${sessionId} AND left_at IS NULL) AS c
     WHERE m.session_id = ${sessionId}`.execute(trx);
  const close = (sessionId: string, participantId: string | null, at: string, reason: string) =>
    sql`
    UPDATE ${t('meeting_participants')} SET left_at = ${at}, leave_reason = ${reason}
     WHERE session_id = ${sessionId} AND left_at IS NULL ${participantId === null ? sql`` : sql`AND participant_id = ${participantId}`}`.execute(
      trx,
    );
  for (const { orgId, streamId, at, event } of events) {
    if (!streamId.startsWith(SESSION_PREFIX))
      throw new Error(`${event.type} on stream ${streamId}, not a session stream`);
    const sessionId = streamId.slice(SESSION_PREFIX.length);
    switch (event.type) {
      case 'session.scheduled': {
        const d = event.data;
        await sql`
          INSERT INTO ${t('meetings')} (session_id, org_id, title, host_user_id, status, scheduled_for, created_at)
          VALUES (${sessionId}, ${orgId}, ${d.title}, ${d.hostUserId}, 'scheduled', ${d.scheduledFor}, ${at})
          ON CONFLICT (session_id) DO NOTHING`.execute(trx);
        break;
      }
      case 'session.started':
        await sql`UPDATE ${t('meetings')} SET status = 'live', started_at = ${event.data.at} WHERE session_id = ${sessionId}`.execute(
          trx,
        );
        break;
      case 'participant.joined': {
        const d = event.data;
        await sql`
          INSERT INTO ${t('meeting_participants')} (session_id, participant_id, joined_at, org_id, display_name, is_host, node)
          VALUES (${sessionId}, ${d.participantId}, ${d.at}, ${orgId}, ${d.displayName}, ${d.isHost}, ${d.node ?? null})
          ON CONFLICT DO NOTHING`.execute(trx);
        await recount(sessionId);
        break;
      }
      case 'participant.left':
        await close(sessionId, event.data.participantId, event.data.at, event.data.reason);
        await recount(sessionId);
        break;
      case 'participant.reconnected':
        await sql`
          UPDATE ${t('meeting_participants')} SET node = ${event.data.node}
           WHERE session_id = ${sessionId} AND participant_id = ${event.data.participantId} AND left_at IS NULL`.execute(
          trx,
        );
        break;
      case 'participant.removed':
        await close(sessionId, event.data.participantId, event.data.at, 'removed');
        await recount(sessionId);
        break;
      case 'session.locked':
      case 'session.unlocked':
        await sql`UPDATE ${t('meetings')} SET locked = ${event.type === 'session.locked'} WHERE session_id = ${sessionId}`.execute(
          trx,
        );
        break;
      case 'participant.muted':
        // A host action with no lasting state (the participant may unmute); the log records it.
        break;
      case 'session.ended':
        await close(sessionId, null, event.data.at, 'ended');
        await sql`
          UPDATE ${t('meetings')} SET status = 'ended', ended_at = ${event.data.at}, end_reason = ${event.data.reason}, participants_now = 0
           WHERE session_id = ${sessionId}`.execute(trx);
        break;
      default:
        assertUnreachable(event);
    }
  }
}
