/**
 * Role-based authorization, as data. Action names are the gateway's tRPC procedure names so
 * the gateway can check `assertCan(role, path)` in one middleware and docs can render the
 * table by walking {@link PERMISSIONS}.
 *
 * Decisions:
 * - Money (plan, buying and releasing seats) is owner + billing; admins cannot spend.
 * - People, seat assignment and API keys are owner + admin.
 * - Everyone may read the organization, its seats and its member list.
 * - The raw event log (`events.list`) is owner + admin + billing.
 * - Metered usage (`usage.summary`, `usage.records`, and the CSV export, which follows
 *   `usage.records`) is owner + billing: it is what the organization is billed for. So is the
 *   invoice preview (`billing.preview`).
 * - `members.accept` is not role-gated: the caller holds an invitation, not a role
 *   (see {@link UNGATED_ACTIONS}); the decider checks the invitation instead.
 * - Webhook endpoints are owner + admin, both to manage them (create, change, pause, resume,
 *   rotate, delete, ping, and reveal a secret: whoever holds it can forge deliveries) and to read
 *   them ({@link WEBHOOKS_MANAGE}, {@link WEBHOOKS_READ}). An endpoint's URL and event types
 *   say where the organization's events go, which is no member's business. The delivery log
 *   (`webhookDeliveries.list`, `.attempts`) is read like the endpoints; a resend or a recovery
 *   (`.resend`, `.recover`) sends events again, so it is managing them.
 * - Meetings: owners, admins and hosts create them (the host also needs a seat, checked by
 *   the session decider); every member may see and join them. Host controls (end, lock,
 *   unlock, mute, remove) are open to the same roles here, and the decider narrows them to the
 *   meeting's own host or an organization owner or admin.
 * - Only an owner may grant the owner role or change/remove an owner
 *   ({@link assertCanAssignRole}), on top of the table.
 * - The finance review across every organization ({@link OPERATOR_ACTIONS}) is for Quorum's
 *   own operators, whom no role makes: they are named in the gateway's configuration or
 *   granted from its command line, never by a customer's request.
 */
import { forbidden } from './errors';
import { ROLES, type Role } from './roles';

const ALL: readonly Role[] = ROLES;
const OWNER_ADMIN: readonly Role[] = ['owner', 'admin'];
const OWNER_BILLING: readonly Role[] = ['owner', 'billing'];
const HOSTS: readonly Role[] = ['owner', 'admin', 'host'];
/** Who manages an organization's webhook endpoints (`webhooks.manage` in docs/webhooks.md). */
export const WEBHOOKS_MANAGE: readonly Role[] = OWNER_ADMIN;
/** Who may list and read them (`webhooks.read`). */
export const WEBHOOKS_READ: readonly Role[] = OWNER_ADMIN;

/** Which roles may perform each role-gated action. */
export const PERMISSIONS = {
  'org.get': ALL,
  'org.changePlan': OWNER_BILLING,
  'members.invite': OWNER_ADMIN,
  'members.changeRole': OWNER_ADMIN,
  'members.remove': OWNER_ADMIN,
  'members.list': ALL,
  'seats.purchase': OWNER_BILLING,
  'seats.release': OWNER_BILLING,
  'seats.assign': OWNER_ADMIN,
  'seats.unassign': OWNER_ADMIN,
  'seats.get': ALL,
  'apiKeys.create': OWNER_ADMIN,
  'apiKeys.list': OWNER_ADMIN,
  'apiKeys.revoke': OWNER_ADMIN,
  'events.list': ['owner', 'admin', 'billing'],
  'meetings.create': HOSTS,
  'meetings.get': ALL,
  'meetings.list': ALL,
  'meetings.join': ALL,
  'meetings.end': HOSTS,
  'meetings.lock': HOSTS,
  'meetings.unlock': HOSTS,
  'meetings.mute': HOSTS,
  'meetings.remove': HOSTS,
  'usage.summary': OWNER_BILLING,
  'usage.records': OWNER_BILLING,
  'billing.preview': OWNER_BILLING,
  'webhooks.create': WEBHOOKS_MANAGE,
  'webhooks.list': WEBHOOKS_READ,
  'webhooks.get': WEBHOOKS_READ,
  'webhooks.update': WEBHOOKS_MANAGE,
  'webhooks.pause': WEBHOOKS_MANAGE,
  'webhooks.resume': WEBHOOKS_MANAGE,
  'webhooks.rotateSecret': WEBHOOKS_MANAGE,
  'webhooks.revealSecret': WEBHOOKS_MANAGE,
  'webhooks.delete': WEBHOOKS_MANAGE,
  'webhooks.ping': WEBHOOKS_MANAGE,
  'webhookDeliveries.list': WEBHOOKS_READ,
  'webhookDeliveries.attempts': WEBHOOKS_READ,
  'webhookDeliveries.resend': WEBHOOKS_MANAGE,
  'webhookDeliveries.recover': WEBHOOKS_MANAGE,
} as const satisfies Record<string, readonly Role[]>;

/** A role-gated action (a gateway procedure name). */
export type Action = keyof typeof PERMISSIONS;

/** Every role-gated action, in table order. */
export const ACTIONS = Object.keys(PERMISSIONS) as Action[];

/**
 * Procedures any authenticated user may call without a role in the organization; the
 * decider enforces their own rule (for `members.accept`: holding a matching invitation).
 */
export const UNGATED_ACTIONS = ['members.accept'] as const;
/** An action that is deliberately not role-gated. */
export type UngatedAction = (typeof UNGATED_ACTIONS)[number];

/**
 * Procedures of Quorum's own finance team (operators), across every organization: not
 * org-scoped and not role-gated. No role of any organization grants them, so they are not in
 * {@link PERMISSIONS}; the gateway refuses everyone but an operator with `FORBIDDEN`
 * (`auth.not_operator`). `finance.export` is the CSV download `GET /finance/export.csv`.
 */
export const OPERATOR_ACTIONS = ['finance.orgs', 'finance.export', 'finance.stripe', 'finance.stripeRequest'] as const;
/** An operator-only action. */
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

/** Whether `role` may perform `action`. */
export function can(role: Role, action: Action): boolean {
  return (PERMISSIONS[action] as readonly Role[]).includes(role);
}

/** Throws `FORBIDDEN` (`auth.forbidden`) unless `role` may perform `action`. */
export function assertCan(role: Role, action: Action): void {
  if (!can(role, action)) {
    const allowed = PERMISSIONS[action] as readonly Role[];
    throw forbidden(
      'auth.forbidden',
      `The ${role} role may not perform ${action}; it requires ${allowed.join(' or ')}.`,
      { role, action, allowed },
    );
  }
}

/**
 * Throws `FORBIDDEN` (`members.owner_requires_owner`) when a non-owner touches the owner
 * role: granting it (`to: 'owner'`), or changing or removing someone who holds it
 * (`from: 'owner'`). `from: null` is a new member (invitation); `to: null` is a removal.
 */
export function assertCanAssignRole(actorRole: Role, change: { from: Role | null; to: Role | null }): void {
  if (actorRole === 'owner') return;
  if (change.to === 'owner') {
    throw forbidden('members.owner_requires_owner', 'Only an owner may grant the owner role.', { actorRole });
  }
  if (change.from === 'owner') {
    throw forbidden(
      'members.owner_requires_owner',
      change.to === null ? 'Only an owner may remove an owner.' : "Only an owner may change an owner's role.",
      { actorRole },
    );
  }
}
