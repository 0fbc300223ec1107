import { describe, expect, it } from 'vitest';
import { AppError } from './errors';
import { ACTIONS, PERMISSIONS, UNGATED_ACTIONS, assertCan, assertCanAssignRole, can, type Action } from './permissions';
import { ROLES, type Role } from './roles';

// The documented matrix, written out independently of PERMISSIONS so a change to either fails.
const Y = true;
const N = false;
//                                   owner admin billing host member
const EXPECTED: Record<Action, [boolean, boolean, boolean, boolean, boolean]> = {
  'org.get': [Y, Y, Y, Y, Y],
  'org.changePlan': [Y, N, Y, N, N],
  'members.invite': [Y, Y, N, N, N],
  'members.changeRole': [Y, Y, N, N, N],
  'members.remove': [Y, Y, N, N, N],
  'members.list': [Y, Y, Y, Y, Y],
  'seats.purchase': [Y, N, Y, N, N],
  'seats.release': [Y, N, Y, N, N],
  'seats.assign': [Y, Y, N, N, N],
  'seats.unassign': [Y, Y, N, N, N],
  'seats.get': [Y, Y, Y, Y, Y],
  'apiKeys.create': [Y, Y, N, N, N],
  'apiKeys.list': [Y, Y, N, N, N],
  'apiKeys.revoke': [Y, Y, N, N, N],
  'events.list': [Y, Y, Y, N, N],
  'meetings.create': [Y, Y, N, Y, N],
  'meetings.get': [Y, Y, Y, Y, Y],
  'meetings.list': [Y, Y, Y, Y, Y],
  'meetings.join': [Y, Y, Y, Y, Y],
  'meetings.end': [Y, Y, N, Y, N],
  'meetings.lock': [Y, Y, N, Y, N],
  'meetings.unlock': [Y, Y, N, Y, N],
  'meetings.mute': [Y, Y, N, Y, N],
  'meetings.remove': [Y, Y, N, Y, N],
  'usage.summary': [Y, N, Y, N, N],
  'usage.records': [Y, N, Y, N, N],
  'billing.preview': [Y, N, Y, N, N],
  'webhooks.create': [Y, Y, N, N, N],
  'webhooks.list': [Y, Y, N, N, N],
  'webhooks.get': [Y, Y, N, N, N],
  'webhooks.update': [Y, Y, N, N, N],
  'webhooks.pause': [Y, Y, N, N, N],
  'webhooks.resume': [Y, Y, N, N, N],
  'webhooks.rotateSecret': [Y, Y, N, N, N],
  'webhooks.revealSecret': [Y, Y, N, N, N],
  'webhooks.delete': [Y, Y, N, N, N],
  'webhooks.ping': [Y, Y, N, N, N],
  'webhookDeliveries.list': [Y, Y, N, N, N],
  'webhookDeliveries.attempts': [Y, Y, N, N, N],
  'webhookDeliveries.resend': [Y, Y, N, N, N],
  'webhookDeliveries.recover': [Y, Y, N, N, N],
};

function refusal(fn: () => void): AppError | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  return undefined;
}

describe('permission matrix', () => {
  it('has exactly the documented actions', () => {
    expect([...ACTIONS].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(ACTIONS.flatMap((action) => ROLES.map((role, i) => [action, role, EXPECTED[action][i]] as const)))(
    '%s by %s → %s',
    (action, role, allowed) => {
      expect(can(role, action)).toBe(allowed);
      const error = refusal(() => assertCan(role, action));
      if (allowed) expect(error).toBeUndefined();
      else expect(error).toMatchObject({ code: 'FORBIDDEN', reason: 'auth.forbidden' });
    },
  );

  it('lets the owner do everything', () => {
    for (const action of ACTIONS) expect(can('owner', action)).toBe(true);
  });

  it('keeps members.accept out of the role table', () => {
    expect(UNGATED_ACTIONS).toEqual(['members.accept']);
    expect(Object.keys(PERMISSIONS)).not.toContain('members.accept');
  });

  it('explains a refusal with the roles that would be allowed', () => {
    expect(refusal(() => assertCan('host', 'members.invite'))?.message).toBe(
      'The host role may not perform members.invite; it requires owner or admin.',
    );
  });
});

describe('assertCanAssignRole', () => {
  const nonOwners: Role[] = ['admin', 'billing', 'host', 'member'];

  it('lets only an owner grant, change or remove the owner role', () => {
    for (const actor of nonOwners) {
      for (const change of [
        { from: null, to: 'owner' },
        { from: 'admin', to: 'owner' },
        { from: 'owner', to: 'admin' },
        { from: 'owner', to: null },
      ] as const) {
        expect(refusal(() => assertCanAssignRole(actor, change))).toMatchObject({
          code: 'FORBIDDEN',
          reason: 'members.owner_requires_owner',
        });
        expect(refusal(() => assertCanAssignRole('owner', change))).toBeUndefined();
      }
    }
  });

  it('leaves other role changes to the permission table', () => {
    expect(refusal(() => assertCanAssignRole('admin', { from: 'member', to: 'admin' }))).toBeUndefined();
    expect(refusal(() => assertCanAssignRole('admin', { from: 'host', to: null }))).toBeUndefined();
  });
});
