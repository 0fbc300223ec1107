/** The `meetings` and `meeting_participants` read models, from session events. */
import { sql } from 'kysely';
import { assertUnreachable } from '@quorum/domain';
import type { TableOf, Trx, WritePlan } from './write-plan';

const SESSION_PREFIX = 'session-';

/**
 * Meetings and their participants, one event at a time in order (a meeting has a handful of
 * events, not thousands). Each participant stint is a row; the live count is recounted from
 * the open stints, never incremented, so a replayed event cannot skew it.
 */
export async function flushSessions(trx: Trx, t: TableOf, events: WritePlan['sessionEvents']): Promise<void> {
  const recount = (sessionId: string) =>
    sql`
    UPDATE ${t('meetings')} AS m
       SET participants_now = c.n, peak_participants = GREATEST(m.peak_participants, c.n)
      FROM (SELECT count(*)::int AS n FROM ${t('meeting_participants')} WHERE session_id = ${sessionId} AND left_at IS NULL) AS c
     WHERE m.session_id = ${sessionId}`.execute(trx);
  const close = (sessionId: string, participantId: string | null, at: string, reason: string) =>
    sql`
    UPDATE ${t('meeting_participants')} SET left_at = ${at}, leave_reason = ${reason}
     WHERE session_id = ${sessionId} AND left_at IS NULL ${participantId === null ? sql`` : sql`AND participant_id = ${participantId}`}`.execute(
      trx,
    );
  for (const { orgId, streamId, at, event } of events) {
    if (!streamId.startsWith(SESSION_PREFIX))
      throw new Error(`${event.type} on stream ${streamId}, not a session stream`);
    const sessionId = streamId.slice(SESSION_PREFIX.length);
    switch (event.type) {
      case 'session.scheduled': {
        const d = event.data;
        await sql`
          INSERT INTO ${t('meetings')} (session_id, org_id, title, host_user_id, status, scheduled_for, created_at)
          VALUES (${sessionId}, ${orgId}, ${d.title}, ${d.hostUserId}, 'scheduled', ${d.scheduledFor}, ${at})
          ON CONFLICT (session_id) DO NOTHING`.execute(trx);
        break;
      }
      case 'session.started':
        await sql`UPDATE ${t('meetings')} SET status = 'live', started_at = ${event.data.at} WHERE session_id = ${sessionId}`.execute(
          trx,
        );
        break;
      case 'participant.joined': {
        const d = event.data;
        await sql`
          INSERT INTO ${t('meeting_participants')} (session_id, participant_id, joined_at, org_id, display_name, is_host, node)
          VALUES (${sessionId}, ${d.participantId}, ${d.at}, ${orgId}, ${d.displayName}, ${d.isHost}, ${d.node ?? null})
          ON CONFLICT DO NOTHING`.execute(trx);
        await recount(sessionId);
        break;
      }
      case 'participant.left':
        await close(sessionId, event.data.participantId, event.data.at, event.data.reason);
        await recount(sessionId);
        break;
      case 'participant.reconnected':
        await sql`
          UPDATE ${t('meeting_participants')} SET node = ${event.data.node}
           WHERE session_id = ${sessionId} AND participant_id = ${event.data.participantId} AND left_at IS NULL`.execute(
          trx,
        );
        break;
      case 'participant.removed':
        await close(sessionId, event.data.participantId, event.data.at, 'removed');
        await recount(sessionId);
        break;
      case 'session.locked':
      case 'session.unlocked':
        await sql`UPDATE ${t('meetings')} SET locked = ${event.type === 'session.locked'} WHERE session_id = ${sessionId}`.execute(
          trx,
        );
        break;
      case 'participant.muted':
        // A host action with no lasting state (the participant may unmute); the log records it.
        break;
      case 'session.ended':
        await close(sessionId, null, event.data.at, 'ended');
        await sql`
          UPDATE ${t('meetings')} SET status = 'ended', ended_at = ${event.data.at}, end_reason = ${event.data.reason}, participants_now = 0
           WHERE session_id = ${sessionId}`.execute(trx);
        break;
      default:
        assertUnreachable(event);
    }
  }
}
