// Domain and store names the members slice uses, gathered so the handler reads plainly.
export {
  AppError,
  can,
  organizationDecider,
  removeMemberPlan,
  seatsDecider,
  streamIds,
  type AcceptInvitationInput,
  type ChangeMemberRoleInput,
  type InviteMemberInput,
  type RemoveMemberInput,
} from '@quorum/domain';
import { WrongExpectedRevisionError } from '@quorum/eventstore';
export const WrongExpectedRevisionErrorGuard = (err: unknown): err is WrongExpectedRevisionError =>
  err instanceof WrongExpectedRevisionError;
