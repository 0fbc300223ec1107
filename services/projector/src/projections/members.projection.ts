/** The `members` and `invitations` read models, from membership events. */
import { assertUnreachable, type OrganizationEvent } from '@quorum/domain';
import { flushKeyed, type TableOf, type Trx, type WritePlan } from './write-plan';

export type MembershipEvent = Extract<OrganizationEvent, { type: `member.${string}` }>;

export function planMembership(w: WritePlan, orgId: string, at: string, event: MembershipEvent): void {
  switch (event.type) {
    case 'member.invited': {
      const d = event.data;
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
      const d = event.data;
      w.member(orgId, d.userId, {
        kind: 'upsert',
        row: { org_id: orgId, user_id: d.userId, email: d.email, role: d.role, joined_at: at },
      });
      if (d.invitationId !== null) w.invitation(d.invitationId, { kind: 'update', set: { status: 'accepted' } });
      return;
    }
    case 'member.role_changed':
      w.member(orgId, event.data.userId, { kind: 'update', set: { role: event.data.to } });
      return;
    case 'member.removed':
      w.member(orgId, event.data.userId, { kind: 'delete' });
      // The domain appends seat.unassigned first; this covers streams written before it did.
      w.assignment(orgId, event.data.userId, { kind: 'delete' });
      return;
    default:
      return assertUnreachable(event);
  }
}

export async function flushMemberships(trx: Trx, t: TableOf, w: WritePlan): Promise<void> {
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
}
