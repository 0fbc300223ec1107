/**
 * Host controls and lifecycle events from the bus (see `host-controls.ts`), enforced on the
 * meetings this node hosts: a mute pauses the producers (in the SFU) or tells the browser (in
 * p2p), a removal or the end of the meeting closes the sockets without reporting leaves (the
 * stream already records them), a lock is told to everyone.
 */
import type { Logger } from 'pino';
import type { Meetings } from './meetings';
import { broadcast, notify } from './send';
import { CLOSE_CODES } from './types';

export interface SessionEvent {
  type: string;
  streamId: string;
  data: unknown;
}

export async function applySessionEvent(meetings: Meetings, logger: Logger, event: SessionEvent): Promise<void> {
  if (!event.streamId.startsWith('session-')) return;
  const meeting = meetings.get(event.streamId.slice('session-'.length));
  if (!meeting) return;
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'participant.muted': {
      const peerId = String(data.participantId);
      const kind = data.kind === 'video' ? 'video' : 'audio';
      const target = meeting.participants.get(peerId);
      if (!target) return;
      // In the SFU the server pauses the media itself; in p2p the browser is told to stop sending.
      if (meeting.media && target.inMedia) {
        for (const producer of meeting.media.listProducers()) {
          if (producer.peerId === peerId && producer.kind === kind && !producer.paused) {
            await meeting.media
              .pauseProducer(peerId, producer.producerId)
              .catch((err: unknown) => logger.warn({ err }, 'host mute: pause failed'));
          }
        }
      }
      broadcast(meeting, 'peerMuted', { peerId, kind, byHost: true });
      return;
    }
    case 'participant.removed': {
      const target = meeting.participants.get(String(data.participantId));
      if (!target) return;
      notify(target, 'removed', {});
      // The stream already records the removal: leave without reporting.
      meetings.drop(meeting, target, {
        report: false,
        closeCode: CLOSE_CODES.removed,
        closeReason: 'removed by the host',
      });
      return;
    }
    case 'session.locked':
    case 'session.unlocked':
      meeting.locked = event.type === 'session.locked';
      broadcast(meeting, 'meetingLocked', { locked: meeting.locked });
      return;
    case 'session.ended': {
      const reason = data.reason === 'empty' ? 'empty' : 'ended_by_host';
      broadcast(meeting, 'meetingEnded', { reason });
      for (const p of [...meeting.participants.values()]) {
        meetings.drop(meeting, p, {
          report: false,
          closeCode: CLOSE_CODES.ended,
          closeReason: 'meeting ended',
        });
      }
      return;
    }
    default:
      return;
  }
}
