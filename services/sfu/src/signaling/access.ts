/**
 * Who may stay: someone who lost access to an organization is disconnected from its meetings
 * here, and after a spell without heartbeats every connected participant is reported present
 * again (see {@link reportPresent}).
 */
import type { Logger } from 'pino';
import type { Meetings } from './meetings';
import { notify } from './send';
import { ReportRefused, type SessionReporter } from './session-reporter';
import { CLOSE_CODES } from './types';

/**
 * Someone lost access to an organization (removed from it, or their API key revoked): they are
 * disconnected from each of its meetings here, and their leave is reported. Resolves with how
 * many were disconnected.
 */
export function revokeAccess(meetings: Meetings, orgId: string, participantId: string): number {
  let dropped = 0;
  for (const meeting of meetings.all()) {
    if (meeting.orgId !== orgId) continue;
    const target = meeting.participants.get(participantId);
    if (!target) continue;
    notify(target, 'removed', {});
    meetings.drop(meeting, target, {
      report: true,
      reason: 'disconnected',
      closeCode: CLOSE_CODES.removed,
      closeReason: 'no longer a member of the organization',
    });
    dropped++;
  }
  return dropped;
}

/**
 * Reports every connected participant as joined again; resolves with how many reports the
 * gateway took. After a spell in which this node could not heartbeat, the gateway may have
 * taken its run for dead and recorded them as gone (the lost-node sweep) while they stayed
 * connected here: these reports record them back. For someone the stream still counts present
 * through this run, a report changes nothing. A refusal (the meeting ended meanwhile, say) is
 * logged; the bus tells this node about an end on its own.
 */
export async function reportPresent(meetings: Meetings, reporter: SessionReporter, logger: Logger): Promise<number> {
  let taken = 0;
  for (const meeting of meetings.all()) {
    for (const participant of [...meeting.participants.values()]) {
      if (!participant.socket) continue; // dropped: its leave is on the way
      const { org: orgId, sid: sessionId, sub: participantId, name: displayName } = participant.claims;
      try {
        await reporter.joined({ orgId, sessionId, participantId, displayName });
        taken++;
      } catch (err) {
        // Removed from the organization while this node could not hear it: they go now.
        if (err instanceof ReportRefused && err.reason === 'meetings.not_a_member')
          revokeAccess(meetings, orgId, participantId);
        logger.warn({ err, sessionId, participantId }, 'could not report a connected participant again');
      }
    }
  }
  return taken;
}
