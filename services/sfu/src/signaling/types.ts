/** What the signaling modules share: a meeting on this node, its participants, their sockets, and how a request is refused. */
import type { Mode, SignalingErrorCode } from '@quorum/signaling';
import type { JoinClaims } from '@quorum/signaling/tokens';
import type { WebSocket } from 'ws';
import type { Room } from '../media/room';
import type { RtpCapabilities } from '../media/types';

/** A refusal answered to a request. */
export class Refusal extends Error {
  constructor(
    readonly code: SignalingErrorCode,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

/** WebSocket close codes (4000–4999 are the application's). */
export const CLOSE_CODES = {
  protocol: 4400,
  unauthorized: 4401,
  refused: 4403,
  removed: 4404,
  ended: 4410,
  replaced: 4409,
  left: 4000,
  shutdown: 1001,
} as const;

export interface Participant {
  readonly peerId: string;
  readonly claims: JoinClaims;
  socket: WebSocket | undefined;
  /** Set while the socket is gone and the leave not yet reported. */
  graceTimer: NodeJS.Timeout | undefined;
  /** Whether the participant is a peer of the mediasoup room. */
  inMedia: boolean;
  rtpCapabilities: RtpCapabilities | undefined;
}

export interface Meeting {
  readonly sessionId: string;
  readonly orgId: string;
  mode: Mode;
  locked: boolean;
  readonly participants: Map<string, Participant>;
  media: Room | undefined;
  mediaOpening: Promise<Room> | undefined;
  activeSpeaker: string | null;
}

export interface Connection {
  socket: WebSocket;
  participant: Participant | undefined;
  meeting: Meeting | undefined;
  queue: Promise<void>;
  /** True once `leave` was asked: the close is a leave, not a drop. */
  leaving: boolean;
}
