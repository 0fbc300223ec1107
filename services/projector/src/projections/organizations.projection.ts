/** The `organizations` and `entitlements` read models, from organization lifecycle events. */
import { sql } from 'kysely';
import { assertUnreachable, entitlementsFor, initialStatusFor, type OrganizationEvent } from '@quorum/domain';
import { flushKeyed, json, type TableOf, type Trx, type WritePlan } from './write-plan';

export type OrganizationLifecycleEvent = Extract<OrganizationEvent, { type: `organization.${string}` }>;

type OrgStatus = 'active' | 'past_due' | 'suspended' | 'closed';

export function planOrganization(w: WritePlan, orgId: string, at: string, event: OrganizationLifecycleEvent): void {
  const status = (s: OrgStatus, clearTrial = false) =>
    w.org(orgId, {
      kind: 'update',
      set: { status: s, updated_at: at, ...(clearTrial ? { trial_ends_at: null } : {}) },
    });
  switch (event.type) {
    case 'organization.created': {
      const d = event.data;
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
      w.org(orgId, { kind: 'update', set: { plan: event.data.to, updated_at: at } });
      w.plans.set(orgId, event.data.to);
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
    default:
      return assertUnreachable(event);
  }
}

export async function flushOrganizations(trx: Trx, t: TableOf, w: WritePlan): Promise<void> {
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
}
