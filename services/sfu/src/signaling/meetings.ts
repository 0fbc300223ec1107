/**
 * The meetings this node hosts: opening one with its first participant, its mediasoup room
 * (opened when the meeting first needs the SFU, its events relayed to the participants),
 * dropping participants (reporting their leave when asked), and closing a meeting once empty.
 */
import type { JoinClaims } from '@quorum/signaling/tokens';
import type { Logger } from 'pino';
import type { Room } from '../media/room';
import type { WorkerDiedEvent } from '../media/types';
import type { WorkerPool } from '../media/worker-pool';
import type { LeaveReports } from './leave-reports';
import { broadcast, notify, toWireProducer } from './send';
import type { Meeting, Participant } from './types';

export interface MeetingsOptions {
  pool: WorkerPool;
  leaves: LeaveReports;
  logger: Logger;
  now: () => number;
  onMeetingOpened?: ((sessionId: string) => void) | undefined;
  onMeetingClosed?: ((sessionId: string) => void) | undefined;
}

export interface DropOptions {
  report: boolean;
  reason?: 'left' | 'disconnected';
  closeCode?: number;
  closeReason?: string;
}

export class Meetings {
  private readonly meetings = new Map<string, Meeting>();

  constructor(private readonly options: MeetingsOptions) {}

  get(sessionId: string): Meeting | undefined {
    return this.meetings.get(sessionId);
  }

  /** A copy, so callers may drop participants (and so close meetings) while they walk it. */
  all(): Meeting[] {
    return [...this.meetings.values()];
  }

  get participantCount(): number {
    let n = 0;
    for (const m of this.meetings.values()) n += m.participants.size;
    return n;
  }

  state() {
    return [...this.meetings.values()].map((m) => ({
      sessionId: m.sessionId,
      orgId: m.orgId,
      mode: m.mode,
      locked: m.locked,
      participants: [...m.participants.values()].map((p) => ({
        peerId: p.peerId,
        connected: p.socket !== undefined,
        inMedia: p.inMedia,
      })),
      mediaRoomId: m.media?.id ?? null,
    }));
  }

  open(claims: JoinClaims): Meeting {
    const meeting: Meeting = {
      sessionId: claims.sid,
      orgId: claims.org,
      mode: 'p2p',
      locked: false,
      participants: new Map(),
      media: undefined,
      mediaOpening: undefined,
      activeSpeaker: null,
    };
    this.meetings.set(claims.sid, meeting);
    this.options.onMeetingOpened?.(claims.sid);
    return meeting;
  }

  mediaRoom(meeting: Meeting): Promise<Room> {
    if (meeting.media && !meeting.media.closed) return Promise.resolve(meeting.media);
    meeting.mediaOpening ??= this.options.pool.getOrCreateRoom(meeting.sessionId).then(
      (room) => {
        meeting.media = room;
        meeting.mediaOpening = undefined;
        wireRoom(meeting, room);
        return room;
      },
      (err: unknown) => {
        meeting.mediaOpening = undefined;
        throw err;
      },
    );
    return meeting.mediaOpening;
  }

  leaveMedia(meeting: Meeting, participant: Participant): void {
    if (participant.inMedia && meeting.media && !meeting.media.closed) meeting.media.removePeer(participant.peerId);
    participant.inMedia = false;
  }

  /** Removes a participant from the meeting; reports the leave to the gateway when asked. */
  drop(meeting: Meeting, participant: Participant, options: DropOptions): void {
    if (meeting.participants.get(participant.peerId) !== participant) return;
    meeting.participants.delete(participant.peerId);
    if (participant.graceTimer) clearTimeout(participant.graceTimer);
    participant.graceTimer = undefined;
    this.leaveMedia(meeting, participant);
    const socket = participant.socket;
    participant.socket = undefined;
    if (socket && options.closeCode !== undefined) socket.close(options.closeCode, options.closeReason);
    broadcast(meeting, 'peerLeft', { peerId: participant.peerId });
    if (options.report) {
      this.options.leaves.report({
        orgId: meeting.orgId,
        sessionId: meeting.sessionId,
        participantId: participant.peerId,
        reason: options.reason ?? 'left',
        at: new Date(this.options.now()).toISOString(),
      });
    }
    if (meeting.participants.size === 0) this.close(meeting);
  }

  workerDied(event: WorkerDiedEvent): void {
    for (const affected of event.rooms) {
      const meeting = this.meetings.get(affected.roomId);
      if (!meeting) continue;
      for (const peerId of affected.peerIds) {
        const p = meeting.participants.get(peerId);
        if (!p) continue;
        p.inMedia = false;
        // The peer is gone from the room; the client rejoins (within the grace, nothing is reported).
        notify(p, 'reconnect', { reason: 'media worker failed' });
      }
    }
  }

  private close(meeting: Meeting): void {
    if (this.meetings.get(meeting.sessionId) !== meeting) return;
    this.meetings.delete(meeting.sessionId);
    meeting.media?.close();
    meeting.media = undefined;
    this.options.onMeetingClosed?.(meeting.sessionId);
  }
}

/** Relays the room's events to the meeting's participants. */
function wireRoom(meeting: Meeting, room: Room): void {
  const peer = (peerId: string) => meeting.participants.get(peerId);
  room.on('newProducer', ({ producer }) =>
    broadcast(meeting, 'newProducer', toWireProducer(producer), producer.peerId),
  );
  room.on('producerClosed', ({ producerId, peerId }) =>
    broadcast(meeting, 'producerClosed', { producerId, peerId }, peerId),
  );
  room.on('producerPaused', ({ producerId, peerId, paused }) =>
    broadcast(meeting, paused ? 'producerPaused' : 'producerResumed', { producerId, peerId }, peerId),
  );
  room.on('consumerClosed', ({ peerId, consumerId, producerId, reason }) => {
    const p = peer(peerId);
    // A consumer closed because its own peer left needs no notice.
    if (p && reason !== 'peer-left' && reason !== 'worker-died' && reason !== 'room-closed')
      notify(p, 'consumerClosed', { consumerId, producerId });
  });
  room.on('producerLayersWanted', ({ peerId, producerId, spatialLayer }) => {
    const p = peer(peerId);
    if (p) notify(p, 'producerLayersWanted', { producerId, spatialLayer });
  });
  room.on('consumerLayersChanged', ({ peerId, consumerId, layers }) => {
    const p = peer(peerId);
    if (p)
      notify(p, 'consumerLayersChanged', {
        consumerId,
        spatialLayer: layers?.spatialLayer ?? null,
        temporalLayer: layers?.temporalLayer ?? null,
      });
  });
  room.on('activeSpeakerChanged', ({ peerId }) => {
    meeting.activeSpeaker = peerId;
    broadcast(meeting, 'activeSpeaker', { peerId });
  });
  room.on('closed', () => {
    if (meeting.media === room) meeting.media = undefined;
    for (const p of meeting.participants.values()) p.inMedia = false;
  });
}
