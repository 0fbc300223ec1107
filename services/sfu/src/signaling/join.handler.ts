/**
 * `join`: the first request on a socket. The join token is verified here and the join reported
 * to the gateway, which decides it on the session stream (cap, lock, removal, organization
 * status); then the participant enters the meeting, replacing an older socket of theirs.
 */
import type { IceServer, RequestData, ResponseData } from '@quorum/signaling';
import { verifyJoinToken } from '@quorum/signaling/tokens';
import type { LeaveReports } from './leave-reports';
import type { Meetings } from './meetings';
import { broadcast, peerInfo, toWireProducer } from './send';
import { ReportRefused, type SessionReporter } from './session-reporter';
import { CLOSE_CODES, Refusal, type Connection } from './types';

export interface JoinDeps {
  meetings: Meetings;
  leaves: LeaveReports;
  reporter: SessionReporter;
  joinTokenSecret: string;
  iceServers: IceServer[];
  now: () => number;
  /** Whether the node is shutting down. */
  closed: () => boolean;
  /** Every open socket, to let go of a participant's old one. */
  connections: ReadonlySet<Connection>;
}

export async function join(deps: JoinDeps, conn: Connection, data: RequestData<'join'>): Promise<ResponseData['join']> {
  const { meetings } = deps;
  if (conn.participant) throw new Refusal('CONFLICT', 'This socket has already joined.', 'signaling.already_joined');
  const verified = verifyJoinToken(data.token, deps.joinTokenSecret, Math.floor(deps.now() / 1000));
  if (!verified.ok) {
    const messages = {
      expired: 'The join token has expired; ask for a new one with meetings.join.',
      bad_signature: 'The join token was not issued by this deployment.',
      malformed: 'The join token is malformed.',
      invalid_claims: 'The join token does not carry valid claims.',
    } as const;
    throw new Refusal('UNAUTHORIZED', messages[verified.reason], `token.${verified.reason}`);
  }
  const claims = verified.claims;
  let meeting = meetings.get(claims.sid);
  const previous = meeting?.participants.get(claims.sub);
  // Back before their leave reached the gateway: the stream never saw them go.
  if (!previous) await deps.leaves.cancel(claims.sid, claims.sub);
  // Every join is reported, even of someone this node still holds (another tab, a rejoin within
  // the grace period): the gateway takes each token once and checks that its holder is still a
  // member, and for someone present already it records nothing.
  try {
    await deps.reporter.joined({
      orgId: claims.org,
      sessionId: claims.sid,
      participantId: claims.sub,
      displayName: claims.name,
      token: { id: claims.jti, expiresAt: claims.exp },
    });
  } catch (err) {
    if (err instanceof ReportRefused) {
      const code =
        (['FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'PRECONDITION_FAILED', 'UNAUTHORIZED', 'BAD_REQUEST'] as const).find(
          (c) => c === err.code,
        ) ?? 'PRECONDITION_FAILED';
      throw new Refusal(code, err.message, err.reason);
    }
    throw err;
  }
  if (deps.closed())
    throw new Refusal('PRECONDITION_FAILED', 'This SFU node is shutting down; join again.', 'signaling.shutting_down');
  meeting = meetings.get(claims.sid) ?? meetings.open(claims);
  let participant = meeting.participants.get(claims.sub);
  if (participant) {
    if (participant.graceTimer) clearTimeout(participant.graceTimer);
    participant.graceTimer = undefined;
    if (participant.socket && participant.socket !== conn.socket) {
      // The same participant from a new socket: the old one is replaced.
      const old = participant.socket;
      for (const c of deps.connections) if (c.socket === old) c.participant = undefined;
      old.close(CLOSE_CODES.replaced, 'joined from another connection');
      meetings.leaveMedia(meeting, participant);
      broadcast(meeting, 'peerLeft', { peerId: participant.peerId }, participant.peerId);
    }
    participant.socket = conn.socket;
  } else {
    participant = {
      peerId: claims.sub,
      claims,
      socket: conn.socket,
      graceTimer: undefined,
      inMedia: false,
      rtpCapabilities: undefined,
    };
    meeting.participants.set(claims.sub, participant);
  }
  conn.participant = participant;
  conn.meeting = meeting;
  if (meeting.mode === 'p2p' && meeting.participants.size > 2) {
    meeting.mode = 'sfu';
    broadcast(meeting, 'modeChanged', { mode: 'sfu' }, participant.peerId);
  }
  broadcast(meeting, 'peerJoined', peerInfo(participant), participant.peerId);
  return {
    peerId: participant.peerId,
    mode: meeting.mode,
    peers: [...meeting.participants.values()].filter((p) => p !== participant && p.socket).map((p) => peerInfo(p)),
    producers: meeting.media
      ? meeting.media
          .listProducers()
          .filter((p) => p.peerId !== participant.peerId)
          .map(toWireProducer)
      : [],
    iceServers: deps.iceServers,
    locked: meeting.locked,
    isHost: claims.host,
    canModerate: claims.mod,
    activeSpeaker: meeting.activeSpeaker,
  };
}
