/** Gateway input schemas for organization and member procedures. */
import { z } from 'zod';
import { PlanSchema } from '../plans';
import { RoleSchema } from '../roles';
import { EmailSchema, IdSchema, OrgNameSchema, plainText } from '../schemas';

/** Input of procedures addressing one organization (`org.get`, `members.list`, ...). */
export const OrgIdInputSchema = z.object({ orgId: IdSchema });
/** Input of procedures addressing one organization. */
export type OrgIdInput = z.infer<typeof OrgIdInputSchema>;

/** Input of `org.create`; the plan defaults to `free`. */
export const CreateOrganizationInputSchema = z.object({
  name: plainText(OrgNameSchema),
  plan: PlanSchema.default('free'),
});
/** Input of `org.create`. */
export type CreateOrganizationInput = z.infer<typeof CreateOrganizationInputSchema>;

/** Input of `org.changePlan`. */
export const ChangePlanInputSchema = z.object({ orgId: IdSchema, plan: PlanSchema });
/** Input of `org.changePlan`. */
export type ChangePlanInput = z.infer<typeof ChangePlanInputSchema>;

/** Input of `members.invite`; the email is trimmed and lower-cased. */
export const InviteMemberInputSchema = z.object({ orgId: IdSchema, email: EmailSchema, role: RoleSchema });
/** Input of `members.invite`. */
export type InviteMemberInput = z.infer<typeof InviteMemberInputSchema>;

/** Input of `members.accept`. */
export const AcceptInvitationInputSchema = z.object({
  orgId: IdSchema,
  invitationId: IdSchema,
  /** The secret of the invitation link, mailed to the invited address. */
  token: z.string().regex(/^qinv_[A-Za-z0-9_-]{43}$/, 'must be the token of the invitation link (qinv_…)'),
});
/** Input of `members.accept`. */
export type AcceptInvitationInput = z.infer<typeof AcceptInvitationInputSchema>;

/** Input of `members.changeRole`. */
export const ChangeMemberRoleInputSchema = z.object({ orgId: IdSchema, userId: IdSchema, role: RoleSchema });
/** Input of `members.changeRole`. */
export type ChangeMemberRoleInput = z.infer<typeof ChangeMemberRoleInputSchema>;

/** Input of `members.remove`. */
export const RemoveMemberInputSchema = z.object({ orgId: IdSchema, userId: IdSchema });
/** Input of `members.remove`. */
export type RemoveMemberInput = z.infer<typeof RemoveMemberInputSchema>;
