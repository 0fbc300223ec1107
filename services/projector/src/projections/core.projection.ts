/**
 * The `core` projection: organizations, entitlements, members, invitations, seats, seat
 * assignments and the per-organization event log, in one read-model schema (`rm_v<N>`).
 *
 * Idempotency: the event log row (org_id, position) is written first, in the same transaction
 * as every other write. If it already exists the event was applied to this schema before, and
 * nothing else is touched. Beyond that guard every write is an upsert, a keyed update or a
 * recount, so replaying a whole sequence in order lands on the same rows even without it.
 */
import type { Transaction } from 'kysely';
import type { Database } from '@quorum/db';
import { assertUnreachable, entitlementsFor, initialStatusFor, isDomainEventType, parseEvent, type Plan } from '@quorum/domain';
import type { WireEvent } from '@quorum/eventstore';

/** Name of the projection in the bookkeeping tables. */
export const CORE_PROJECTION = 'core';

/** `applied`: written now; `duplicate`: this position was already in the schema's event log. */
export type ApplyOutcome = 'applied' | 'duplicate';

type Trx = Transaction<Database>;

/**
 * Applies one event to the read models.
 * @param trx a transaction already scoped to the version's schema (`trx.withSchema(schema)`).
 * @throws when the data of a known event type fails validation (after upcasting), or when the
 *   envelope's `orgId` is not a uuid; the caller's transaction then rolls back.
 */
export async function applyEvent(trx: Trx, event: WireEvent): Promise<ApplyOutcome> {
  // Parse before writing anything: a poison event must leave no trace, not even a log row.
  const domainEvent = isDomainEventType(event.type)
    ? parseEvent({ type: event.type, version: event.version, data: event.data })
    : undefined;
  const at = new Date(event.occurredAt);
  const orgId = event.orgId;

  const logged = await trx
    .insertInto('event_log')
    .values({
      org_id: orgId,
      position: event.position,
      event_id: event.id,
      type: event.type,
      stream_id: event.streamId,
      revision: event.revision,
      data: JSON.stringify(event.data ?? null),
      metadata: JSON.stringify({
        version: event.version,
        actor: event.actor,
        correlationId: event.correlationId,
        causationId: event.causationId,
        traceparent: event.traceparent,
      }),
      occurred_at: at,
    })
    .onConflict((oc) => oc.columns(['org_id', 'position']).doNothing())
    .returning('position')
    .executeTakeFirst();
  if (logged === undefined) return 'duplicate';
  // Event types this code does not know (newer producers, other categories) only go to the log.
  if (domainEvent === undefined) return 'applied';

  switch (domainEvent.type) {
    case 'organization.created': {
      const d = domainEvent.data;
      if (d.orgId !== orgId) throw new Error(`organization.created for ${d.orgId} carries envelope orgId ${orgId}`);
      await trx
        .insertInto('organizations')
        .values({
          org_id: orgId,
          name: d.name,
          plan: d.plan,
          status: initialStatusFor(d.plan),
          trial_ends_at: initialStatusFor(d.plan) === 'trialing' ? d.trialEndsAt : null,
          owner_user_id: d.ownerUserId,
          created_at: at,
          updated_at: at,
        })
        .onConflict((oc) => oc.column('org_id').doNothing())
        .execute();
      await upsertEntitlements(trx, orgId, d.plan);
      await trx
        .insertInto('seats')
        .values({ org_id: orgId, purchased: 0, assigned: 0 })
        .onConflict((oc) => oc.column('org_id').doNothing())
        .execute();
      break;
    }
    case 'organization.plan_changed':
      await trx.updateTable('organizations').set({ plan: domainEvent.data.to, updated_at: at }).where('org_id', '=', orgId).execute();
      await upsertEntitlements(trx, orgId, domainEvent.data.to);
      break;
    case 'organization.activated':
      // A paid subscription replaces the trial: there is no trial end any more.
      await setStatus(trx, orgId, 'active', at, { clearTrial: true });
      break;
    case 'organization.reactivated':
      await setStatus(trx, orgId, 'active', at);
      break;
    case 'organization.marked_past_due':
      await setStatus(trx, orgId, 'past_due', at);
      break;
    case 'organization.suspended':
      await setStatus(trx, orgId, 'suspended', at);
      break;
    case 'organization.closed':
      await setStatus(trx, orgId, 'closed', at);
      break;
    case 'member.invited': {
      const d = domainEvent.data;
      await trx
        .insertInto('invitations')
        .values({
          invitation_id: d.invitationId,
          org_id: orgId,
          email: d.email,
          role: d.role,
          status: 'pending',
          invited_by: d.invitedBy,
          expires_at: d.expiresAt,
          created_at: at,
        })
        .onConflict((oc) => oc.column('invitation_id').doNothing())
        .execute();
      break;
    }
    case 'member.joined': {
      const d = domainEvent.data;
      await trx
        .insertInto('members')
        .values({ org_id: orgId, user_id: d.userId, email: d.email, role: d.role, joined_at: at })
        .onConflict((oc) => oc.columns(['org_id', 'user_id']).doUpdateSet({ email: d.email, role: d.role, joined_at: at }))
        .execute();
      if (d.invitationId !== null) {
        await trx
          .updateTable('invitations')
          .set({ status: 'accepted' })
          .where('invitation_id', '=', d.invitationId)
          .where('org_id', '=', orgId)
          .execute();
      }
      break;
    }
    case 'member.role_changed':
      await trx
        .updateTable('members')
        .set({ role: domainEvent.data.to })
        .where('org_id', '=', orgId)
        .where('user_id', '=', domainEvent.data.userId)
        .execute();
      break;
    case 'member.removed': {
      const userId = domainEvent.data.userId;
      await trx.deleteFrom('members').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
      // The domain appends seat.unassigned first; this covers streams written before it did.
      await trx.deleteFrom('seat_assignments').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
      await recountAssigned(trx, orgId);
      break;
    }
    case 'seats.purchased':
    case 'seats.released': {
      const total = domainEvent.data.total;
      await trx
        .insertInto('seats')
        .values({ org_id: orgId, purchased: total, assigned: 0 })
        .onConflict((oc) => oc.column('org_id').doUpdateSet({ purchased: total }))
        .execute();
      break;
    }
    case 'seat.assigned':
      await trx
        .insertInto('seat_assignments')
        .values({ org_id: orgId, user_id: domainEvent.data.userId, assigned_at: at })
        .onConflict((oc) => oc.columns(['org_id', 'user_id']).doNothing())
        .execute();
      await recountAssigned(trx, orgId);
      break;
    case 'seat.unassigned':
      await trx
        .deleteFrom('seat_assignments')
        .where('org_id', '=', orgId)
        .where('user_id', '=', domainEvent.data.userId)
        .execute();
      await recountAssigned(trx, orgId);
      break;
    default:
      return assertUnreachable(domainEvent);
  }
  return 'applied';
}

async function upsertEntitlements(trx: Trx, orgId: string, plan: Plan): Promise<void> {
  const e = entitlementsFor(plan);
  const row = {
    plan,
    max_seats: e.maxSeats,
    max_participants_per_meeting: e.maxParticipantsPerMeeting,
    meeting_minutes_per_month: e.meetingMinutesPerMonth,
    recording: e.recording,
    api_access: e.apiAccess,
  };
  await trx
    .insertInto('entitlements')
    .values({ org_id: orgId, ...row })
    .onConflict((oc) => oc.column('org_id').doUpdateSet(row))
    .execute();
}

async function setStatus(
  trx: Trx,
  orgId: string,
  status: 'active' | 'past_due' | 'suspended' | 'closed',
  at: Date,
  options: { clearTrial?: boolean } = {},
): Promise<void> {
  await trx
    .updateTable('organizations')
    .set({ status, updated_at: at, ...(options.clearTrial ? { trial_ends_at: null } : {}) })
    .where('org_id', '=', orgId)
    .execute();
}

/** `assigned` is recounted, not incremented, so a repeated assignment cannot inflate it. */
async function recountAssigned(trx: Trx, orgId: string): Promise<void> {
  const row = await trx
    .selectFrom('seat_assignments')
    .where('org_id', '=', orgId)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  const assigned = Number(row.n);
  await trx
    .insertInto('seats')
    .values({ org_id: orgId, purchased: 0, assigned })
    .onConflict((oc) => oc.column('org_id').doUpdateSet({ assigned }))
    .execute();
}
