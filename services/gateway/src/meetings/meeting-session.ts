import { AppError, type Session, type SessionState } from '@quorum/domain';

export const meetingNotFound = () => new AppError('NOT_FOUND', 'meetings.not_found', 'Meeting not found.');

/** The session, if it exists and belongs to `orgId` (another organization's meeting is NOT_FOUND). */
export function sessionOf(state: SessionState, orgId: string): Session {
  if (!state.exists || state.orgId !== orgId) throw meetingNotFound();
  return state;
}
