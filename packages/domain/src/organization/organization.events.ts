/**
 * Events of the organization aggregate (stream `organization-<orgId>`): lifecycle, plan,
 * members and invitations. Each schema describes the *current* version of its event's data;
 * older versions are upcast on read (see `events.ts`).
 */
import { z } from 'zod';
import { PlanSchema } from '../plans';
import { RoleSchema } from '../roles';
import { EmailSchema, IdSchema, IsoDateTimeSchema, OrgNameSchema } from '../schemas';

/** Lifecycle status of an organization. */
export const OrganizationStatusSchema = z.enum(['trialing', 'active', 'past_due', 'suspended', 'closed']);
/** Lifecycle status of an organization. */
export type OrganizationStatus = z.infer<typeof OrganizationStatusSchema>;

/** `organization.created` v1. */
export const OrganizationCreatedDataSchema = z.object({
  orgId: IdSchema,
  name: OrgNameSchema,
  plan: PlanSchema,
  ownerUserId: IdSchema,
  ownerEmail: EmailSchema,
  trialEndsAt: IsoDateTimeSchema,
});
/** `organization.plan_changed` v1. */
export const OrganizationPlanChangedDataSchema = z.object({ from: PlanSchema, to: PlanSchema });
/** `organization.activated` v1. */
export const OrganizationActivatedDataSchema = z.object({});
/** `organization.marked_past_due` v1. */
export const OrganizationMarkedPastDueDataSchema = z.object({});
/** `organization.suspended` v1. */
export const OrganizationSuspendedDataSchema = z.object({ reason: z.string().min(1).max(500) });
/** `organization.reactivated` v1. */
export const OrganizationReactivatedDataSchema = z.object({});
/** `organization.closed` v1. */
export const OrganizationClosedDataSchema = z.object({});
/** `member.invited` v1. */
export const MemberInvitedDataSchema = z.object({
  invitationId: IdSchema,
  email: EmailSchema,
  role: RoleSchema,
  invitedBy: IdSchema,
  expiresAt: IsoDateTimeSchema,
});
/** `member.joined` v1. `invitationId` is null for the founding owner. */
export const MemberJoinedDataSchema = z.object({
  userId: IdSchema,
  email: EmailSchema,
  role: RoleSchema,
  invitationId: IdSchema.nullable(),
});
/** `member.role_changed` v1. */
export const MemberRoleChangedDataSchema = z.object({ userId: IdSchema, from: RoleSchema, to: RoleSchema });
/** `member.removed` v1. */
export const MemberRemovedDataSchema = z.object({ userId: IdSchema });
/** `api_key.created` v1: an integration key exists; its secret is never in the log. */
export const ApiKeyCreatedDataSchema = z.object({
  keyId: IdSchema,
  name: z.string().min(1).max(100),
  role: RoleSchema,
  createdBy: IdSchema,
});
/** `api_key.revoked` v1. */
export const ApiKeyRevokedDataSchema = z.object({ keyId: IdSchema, revokedBy: IdSchema });

/** Current data schema of every organization event type. */
export const ORGANIZATION_EVENT_DATA_SCHEMAS = {
  'organization.created': OrganizationCreatedDataSchema,
  'organization.plan_changed': OrganizationPlanChangedDataSchema,
  'organization.activated': OrganizationActivatedDataSchema,
  'organization.marked_past_due': OrganizationMarkedPastDueDataSchema,
  'organization.suspended': OrganizationSuspendedDataSchema,
  'organization.reactivated': OrganizationReactivatedDataSchema,
  'organization.closed': OrganizationClosedDataSchema,
  'member.invited': MemberInvitedDataSchema,
  'member.joined': MemberJoinedDataSchema,
  'member.role_changed': MemberRoleChangedDataSchema,
  'member.removed': MemberRemovedDataSchema,
  'api_key.created': ApiKeyCreatedDataSchema,
  'api_key.revoked': ApiKeyRevokedDataSchema,
} as const;

type Schemas = typeof ORGANIZATION_EVENT_DATA_SCHEMAS;

/** Type of an organization event. */
export type OrganizationEventType = keyof Schemas;

/** One organization event as the domain sees it (the store adds id, metadata, positions). */
export type OrganizationEvent = {
  [T in OrganizationEventType]: { type: T; data: z.output<Schemas[T]> };
}[OrganizationEventType];
