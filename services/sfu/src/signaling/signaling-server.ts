/**
 * The SFU's WebSocket signaling (protocol: `@quorum/signaling`). A socket's first request is
 * `join` with a join token from the gateway; the server verifies it, reports the join to the
 * gateway (which decides it on the session stream: cap, lock, removal, organization status),
 * and then serves the meeting:
 *
 * - `p2p` mode (one or two participants): only `p2pSignal` is relayed between the two
 *   browsers; no mediasoup peer or transport exists for them.
 * - `sfu` mode: from the moment a third participant joins, for the rest of the meeting. Every
 *   participant is told `modeChanged` and continues through a mediasoup room.
 *
 * A dropped socket is reported as a leave only after `reconnectGraceMs`; a rejoin within it
 * (a network blip, a reload, a worker that died) reports nothing. Host controls arrive as
 * events from the bus ({@link SignalingServer.applySessionEvent}); a worker that dies tells its
 * participants to reconnect and nothing else stops.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { isAppError } from '@quorum/domain';
import {
  MAX_FRAME_BYTES,
  ProtocolError,
  parseRequest,
  type ClientRequest,
  type IceServer,
  type Mode,
  type NotificationData,
  type NotificationMethod,
  type PeerInfo,
  type ProducerInfo as WireProducerInfo,
  type RequestData,
  type ResponseData,
  type SignalingError,
  type SignalingErrorCode,
} from '@quorum/signaling';
import { verifyJoinToken, type JoinClaims } from '@quorum/signaling/tokens';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import type { Room } from '../media/room';
import type { ProducerInfo, RtpCapabilities, WorkerDiedEvent } from '../media/types';
import type { WorkerPool } from '../media/worker-pool';
import { LeaveReports } from './leave-reports';
import { ReportRefused, type SessionReporter } from './session-reporter';

export interface SignalingServerOptions {
  pool: WorkerPool;
  reporter: SessionReporter;
  /** Shared with the gateway, which signs join tokens with it. */
  joinTokenSecret: string;
  iceServers: IceServer[];
  logger: Logger;
  /** A dropped socket is reported as a leave after this long unless its participant rejoins. Default 10 s. */
  reconnectGraceMs?: number;
  /** A socket that has not joined within this long is closed. Default 10 s. */
  joinTimeoutMs?: number;
  /** How long a leave the gateway does not take is retried. Default 10 min (see {@link LeaveReports}). */
  leaveRetryMs?: number;
  /** The first pause between attempts at a leave report (it doubles up to 30 s). Default 1 s. */
  leaveRetryFirstDelayMs?: number;
  /** Called when this node starts and stops hosting a meeting (placement bookkeeping). */
  onMeetingOpened?: (sessionId: string) => void;
  onMeetingClosed?: (sessionId: string) => void;
  now?: () => number;
}

/** A refusal answered to a request. */
class Refusal extends Error {
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

interface Participant {
  readonly peerId: string;
  readonly claims: JoinClaims;
  socket: WebSocket | undefined;
  /** Set while the socket is gone and the leave not yet reported. */
  graceTimer: NodeJS.Timeout | undefined;
  /** Whether the participant is a peer of the mediasoup room. */
  inMedia: boolean;
  rtpCapabilities: RtpCapabilities | undefined;
}

interface Meeting {
  readonly sessionId: string;
  readonly orgId: string;
  mode: Mode;
  locked: boolean;
  readonly participants: Map<string, Participant>;
  media: Room | undefined;
  mediaOpening: Promise<Room> | undefined;
  activeSpeaker: string | null;
}

interface Connection {
  socket: WebSocket;
  participant: Participant | undefined;
  meeting: Meeting | undefined;
  queue: Promise<void>;
  /** True once `leave` was asked: the close is a leave, not a drop. */
  leaving: boolean;
}

export class SignalingServer {
  private readonly wss: WebSocketServer;
  private readonly meetings = new Map<string, Meeting>();
  private readonly connections = new Set<Connection>();
  private readonly reconnectGraceMs: number;
  private readonly joinTimeoutMs: number;
  private readonly now: () => number;
  private closed = false;
  /** Leave reports on their way to the gateway (retried while it does not answer); `close()` flushes them. */
  private readonly leaves: LeaveReports;

  constructor(private readonly options: SignalingServerOptions) {
    this.reconnectGraceMs = options.reconnectGraceMs ?? 10_000;
    this.joinTimeoutMs = options.joinTimeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.leaves = new LeaveReports({
      reporter: options.reporter,
      logger: options.logger,
      now: this.now,
      ...(options.leaveRetryMs !== undefined ? { retryForMs: options.leaveRetryMs } : {}),
      ...(options.leaveRetryFirstDelayMs !== undefined ? { firstDelayMs: options.leaveRetryFirstDelayMs } : {}),
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
    this.wss.on('connection', (socket) => this.accept(socket));
    options.pool.on('workerDied', (event) => this.workerDied(event));
  }

  /** Leaves not yet taken by the gateway (in flight, or waiting to be tried again). */
  get pendingLeaves(): number {
    return this.leaves.size;
  }

  /** Hands an HTTP upgrade to the signaling socket server (mount it at `/sfu`). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  /** Meetings on this node, with their mode and participants (for tests and metrics). */
  getState() {
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

  /**
   * Reports every connected participant as joined again; resolves with how many reports the
   * gateway took. After a spell in which this node could not heartbeat, the gateway may have
   * taken its run for dead and recorded them as gone (the lost-node sweep) while they stayed
   * connected here: these reports record them back. For someone the stream still counts present
   * through this run, a report changes nothing. A refusal (the meeting ended meanwhile, say) is
   * logged; the bus tells this node about an end on its own.
   */
  async reportPresent(): Promise<number> {
    let taken = 0;
    for (const meeting of [...this.meetings.values()]) {
      for (const participant of [...meeting.participants.values()]) {
        if (!participant.socket) continue; // dropped: its leave is on the way
        const { org: orgId, sid: sessionId, sub: participantId, name: displayName } = participant.claims;
        try {
          await this.options.reporter.joined({ orgId, sessionId, participantId, displayName });
          taken++;
        } catch (err) {
          // Removed from the organization while this node could not hear it: they go now.
          if (err instanceof ReportRefused && err.reason === 'meetings.not_a_member')
            this.revokeAccess(orgId, participantId);
          this.options.logger.warn({ err, sessionId, participantId }, 'could not report a connected participant again');
        }
      }
    }
    return taken;
  }

  /** Consumers forwarded by this node, for placement load. */
  get participantCount(): number {
    let n = 0;
    for (const m of this.meetings.values()) n += m.participants.size;
    return n;
  }

  /**
   * Enforces a host control or lifecycle event from the bus on a meeting this node hosts;
   * events of other meetings are ignored.
   */
  /**
   * Someone lost access to an organization (removed from it, or their API key revoked): they are
   * disconnected from each of its meetings here, and their leave is reported. Resolves with how
   * many were disconnected.
   */
  revokeAccess(orgId: string, participantId: string): number {
    let dropped = 0;
    for (const meeting of [...this.meetings.values()]) {
      if (meeting.orgId !== orgId) continue;
      const target = meeting.participants.get(participantId);
      if (!target) continue;
      this.notify(target, 'removed', {});
      this.dropParticipant(meeting, target, {
        report: true,
        reason: 'disconnected',
        closeCode: CLOSE_CODES.removed,
        closeReason: 'no longer a member of the organization',
      });
      dropped++;
    }
    return dropped;
  }

  async applySessionEvent(event: { type: string; streamId: string; data: unknown }): Promise<void> {
    if (!event.streamId.startsWith('session-')) return;
    const meeting = this.meetings.get(event.streamId.slice('session-'.length));
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
                .catch((err: unknown) => this.options.logger.warn({ err }, 'host mute: pause failed'));
            }
          }
        }
        this.broadcast(meeting, 'peerMuted', { peerId, kind, byHost: true });
        return;
      }
      case 'participant.removed': {
        const target = meeting.participants.get(String(data.participantId));
        if (!target) return;
        this.notify(target, 'removed', {});
        // The stream already records the removal: leave without reporting.
        this.dropParticipant(meeting, target, {
          report: false,
          closeCode: CLOSE_CODES.removed,
          closeReason: 'removed by the host',
        });
        return;
      }
      case 'session.locked':
      case 'session.unlocked':
        meeting.locked = event.type === 'session.locked';
        this.broadcast(meeting, 'meetingLocked', { locked: meeting.locked });
        return;
      case 'session.ended': {
        const reason = data.reason === 'empty' ? 'empty' : 'ended_by_host';
        this.broadcast(meeting, 'meetingEnded', { reason });
        for (const p of [...meeting.participants.values()]) {
          this.dropParticipant(meeting, p, {
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

  /** Closes every socket (participants are told to reconnect elsewhere) and every room. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const meeting of [...this.meetings.values()]) {
      for (const p of [...meeting.participants.values()]) {
        if (p.graceTimer) clearTimeout(p.graceTimer);
        if (p.socket) this.notify(p, 'reconnect', { reason: 'server shutting down' });
        // Report leaves so the stream does not keep them present; rejoining elsewhere rejoins.
        this.dropParticipant(meeting, p, {
          report: true,
          reason: 'disconnected',
          closeCode: CLOSE_CODES.shutdown,
          closeReason: 'server shutting down',
        });
      }
    }
    for (const c of this.connections) c.socket.close(CLOSE_CODES.shutdown, 'server shutting down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await this.leaves.flush();
  }

  // -------------------------------------------------------------------------------------------
  // Sockets

  private accept(socket: WebSocket): void {
    const conn: Connection = {
      socket,
      participant: undefined,
      meeting: undefined,
      queue: Promise.resolve(),
      leaving: false,
    };
    this.connections.add(conn);
    const joinTimer = setTimeout(() => {
      if (!conn.participant) socket.close(CLOSE_CODES.unauthorized, 'no join within the time allowed');
    }, this.joinTimeoutMs);
    socket.on('message', (raw, isBinary) => {
      if (isBinary) {
        socket.close(CLOSE_CODES.protocol, 'binary frames are not part of the protocol');
        return;
      }
      const frame = Array.isArray(raw)
        ? Buffer.concat(raw).toString('utf8')
        : Buffer.from(raw as ArrayBuffer).toString('utf8');
      // One request at a time per socket, in order.
      conn.queue = conn.queue.then(() => this.onFrame(conn, frame));
    });
    socket.on('close', () => {
      clearTimeout(joinTimer);
      this.connections.delete(conn);
      conn.queue = conn.queue.then(() => this.onSocketClosed(conn));
    });
    socket.on('error', (err) => this.options.logger.debug({ err }, 'signaling socket error'));
  }

  private async onFrame(conn: Connection, frame: string): Promise<void> {
    let request: ClientRequest;
    try {
      request = parseRequest(frame);
    } catch (err) {
      const e = err as ProtocolError;
      if (e.requestId !== undefined)
        this.respondError(conn.socket, e.requestId, { code: 'BAD_REQUEST', message: e.message });
      else conn.socket.close(CLOSE_CODES.protocol, e.message.slice(0, 120));
      return;
    }
    try {
      const data = await this.handle(conn, request);
      this.send(conn.socket, { type: 'response', id: request.id, ok: true, data });
      if (request.method === 'leave') conn.socket.close(CLOSE_CODES.left, 'left');
    } catch (err) {
      this.respondError(conn.socket, request.id, this.toError(err, request.method));
      if (request.method === 'join')
        conn.socket.close(
          err instanceof Refusal && err.code === 'UNAUTHORIZED' ? CLOSE_CODES.unauthorized : CLOSE_CODES.refused,
          'join refused',
        );
    }
  }

  private toError(err: unknown, method: string): SignalingError {
    if (err instanceof Refusal)
      return { code: err.code, message: err.message, ...(err.reason ? { reason: err.reason } : {}) };
    if (isAppError(err)) {
      const code = err.code === 'TOO_MANY_REQUESTS' ? 'PRECONDITION_FAILED' : err.code;
      return { code, message: err.message, reason: err.reason };
    }
    // mediasoup refuses bad parameters with TypeError (and UnsupportedError for capabilities).
    if (err instanceof TypeError || (err as Error)?.name === 'UnsupportedError')
      return { code: 'BAD_REQUEST', message: (err as Error).message };
    this.options.logger.error({ err, method }, 'signaling request failed');
    return { code: 'INTERNAL', message: `Internal error while handling ${method}.` };
  }

  private async onSocketClosed(conn: Connection): Promise<void> {
    const { participant, meeting } = conn;
    if (!participant || !meeting || participant.socket !== conn.socket) return;
    participant.socket = undefined;
    if (conn.leaving) return; // `leave` already removed them
    // Media of a dropped participant goes at once (nobody can use it); the leave waits for a rejoin.
    this.leaveMedia(meeting, participant);
    this.broadcast(meeting, 'peerLeft', { peerId: participant.peerId }, participant.peerId);
    participant.graceTimer = setTimeout(() => {
      participant.graceTimer = undefined;
      if (meeting.participants.get(participant.peerId) === participant && !participant.socket) {
        this.dropParticipant(meeting, participant, { report: true, reason: 'disconnected' });
      }
    }, this.reconnectGraceMs);
    participant.graceTimer.unref?.();
  }

  // -------------------------------------------------------------------------------------------
  // Requests

  private async handle(conn: Connection, request: ClientRequest): Promise<unknown> {
    if (request.method === 'join') return this.join(conn, request.data);
    const { participant, meeting } = conn;
    if (!participant || !meeting || participant.socket !== conn.socket)
      throw new Refusal('UNAUTHORIZED', 'Send join with a join token first.', 'signaling.not_joined');
    switch (request.method) {
      case 'leave':
        conn.leaving = true;
        this.dropParticipant(meeting, participant, { report: true, reason: 'left' });
        // The socket closes once the answer is sent (see onFrame).
        return {};
      case 'p2pSignal':
        return this.relay(meeting, participant, request.data);
      default:
        return this.media(meeting, participant, request);
    }
  }

  private async join(conn: Connection, data: RequestData<'join'>): Promise<ResponseData['join']> {
    if (conn.participant) throw new Refusal('CONFLICT', 'This socket has already joined.', 'signaling.already_joined');
    const verified = verifyJoinToken(data.token, this.options.joinTokenSecret, Math.floor(this.now() / 1000));
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
    let meeting = this.meetings.get(claims.sid);
    const previous = meeting?.participants.get(claims.sub);
    // Back before their leave reached the gateway: the stream never saw them go.
    if (!previous) await this.leaves.cancel(claims.sid, claims.sub);
    // Every join is reported, even of someone this node still holds (another tab, a rejoin within
    // the grace period): the gateway takes each token once and checks that its holder is still a
    // member, and for someone present already it records nothing.
    try {
      await this.options.reporter.joined({
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
    if (this.closed)
      throw new Refusal(
        'PRECONDITION_FAILED',
        'This SFU node is shutting down; join again.',
        'signaling.shutting_down',
      );
    meeting = this.meetings.get(claims.sid) ?? this.openMeeting(claims);
    let participant = meeting.participants.get(claims.sub);
    if (participant) {
      if (participant.graceTimer) clearTimeout(participant.graceTimer);
      participant.graceTimer = undefined;
      if (participant.socket && participant.socket !== conn.socket) {
        // The same participant from a new socket: the old one is replaced.
        const old = participant.socket;
        for (const c of this.connections) if (c.socket === old) c.participant = undefined;
        old.close(CLOSE_CODES.replaced, 'joined from another connection');
        this.leaveMedia(meeting, participant);
        this.broadcast(meeting, 'peerLeft', { peerId: participant.peerId }, participant.peerId);
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
      this.broadcast(meeting, 'modeChanged', { mode: 'sfu' }, participant.peerId);
    }
    this.broadcast(meeting, 'peerJoined', this.peerInfo(participant), participant.peerId);
    return {
      peerId: participant.peerId,
      mode: meeting.mode,
      peers: [...meeting.participants.values()]
        .filter((p) => p !== participant && p.socket)
        .map((p) => this.peerInfo(p)),
      producers: meeting.media
        ? meeting.media
            .listProducers()
            .filter((p) => p.peerId !== participant.peerId)
            .map(toWireProducer)
        : [],
      iceServers: this.options.iceServers,
      locked: meeting.locked,
      isHost: claims.host,
      canModerate: claims.mod,
      activeSpeaker: meeting.activeSpeaker,
    };
  }

  private relay(meeting: Meeting, from: Participant, data: RequestData<'p2pSignal'>): Record<string, never> {
    if (meeting.mode !== 'p2p')
      throw new Refusal(
        'PRECONDITION_FAILED',
        'The meeting runs through the SFU now; peer-to-peer signals are not relayed.',
        'signaling.not_p2p',
      );
    const to = meeting.participants.get(data.to);
    if (!to || to === from || !to.socket)
      throw new Refusal(
        'NOT_FOUND',
        `No connected participant ${data.to} in this meeting.`,
        'signaling.peer_not_found',
      );
    this.notify(to, 'p2pSignal', { from: from.peerId, signal: data.signal });
    return {};
  }

  private async media(
    meeting: Meeting,
    participant: Participant,
    request: Exclude<ClientRequest, { method: 'join' | 'leave' | 'p2pSignal' }>,
  ): Promise<unknown> {
    if (meeting.mode !== 'sfu')
      throw new Refusal(
        'PRECONDITION_FAILED',
        'This is a peer-to-peer call; media goes through the SFU only once a third participant joins.',
        'signaling.not_sfu',
      );
    const room = await this.mediaRoom(meeting);
    const peerId = participant.peerId;
    if (!participant.inMedia) {
      await room.addPeer(peerId, participant.rtpCapabilities ? { rtpCapabilities: participant.rtpCapabilities } : {});
      participant.inMedia = true;
    }
    switch (request.method) {
      case 'getRouterRtpCapabilities':
        return { rtpCapabilities: room.rtpCapabilities };
      case 'setRtpCapabilities':
        participant.rtpCapabilities = request.data.rtpCapabilities as unknown as RtpCapabilities;
        room.setPeerRtpCapabilities(peerId, participant.rtpCapabilities);
        return {};
      case 'createWebRtcTransport':
        return room.createWebRtcTransport(peerId, { direction: request.data.direction });
      case 'connectWebRtcTransport':
        await room.connectWebRtcTransport(peerId, request.data.transportId, request.data.dtlsParameters as never);
        return {};
      case 'restartIce':
        return { iceParameters: await room.restartIce(peerId, request.data.transportId) };
      case 'produce': {
        const producer = await room.produce(peerId, {
          transportId: request.data.transportId,
          kind: request.data.kind,
          rtpParameters: request.data.rtpParameters as never,
          source: request.data.source,
        });
        return { producerId: producer.producerId };
      }
      case 'closeProducer':
        room.closeProducer(peerId, request.data.producerId);
        return {};
      case 'pauseProducer':
        await room.pauseProducer(peerId, request.data.producerId);
        return {};
      case 'resumeProducer':
        await room.resumeProducer(peerId, request.data.producerId);
        return {};
      case 'consume': {
        const { producerId, spatialLayer, temporalLayer } = request.data;
        const c = await room.consume(peerId, {
          producerId,
          ...(spatialLayer !== undefined
            ? { preferredLayers: { spatialLayer, ...(temporalLayer !== undefined ? { temporalLayer } : {}) } }
            : {}),
        });
        return {
          consumerId: c.consumerId,
          producerId: c.producerId,
          peerId: c.producerPeerId,
          kind: c.kind,
          source: c.source,
          rtpParameters: c.rtpParameters,
          type: c.type,
          producerPaused: c.producerPaused,
        } satisfies ResponseData['consume'];
      }
      case 'pauseConsumer':
        await room.pauseConsumer(peerId, request.data.consumerId);
        return {};
      case 'resumeConsumer':
        await room.resumeConsumer(peerId, request.data.consumerId);
        return {};
      case 'setPreferredLayers':
        await room.setConsumerPreferredLayers(peerId, request.data.consumerId, {
          spatialLayer: request.data.spatialLayer,
          ...(request.data.temporalLayer !== undefined ? { temporalLayer: request.data.temporalLayer } : {}),
        });
        return {};
      default: {
        const unknown: never = request;
        throw new Refusal('BAD_REQUEST', `Unknown method ${(unknown as { method: string }).method}.`);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Meetings and media rooms

  private openMeeting(claims: JoinClaims): Meeting {
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

  private mediaRoom(meeting: Meeting): Promise<Room> {
    if (meeting.media && !meeting.media.closed) return Promise.resolve(meeting.media);
    meeting.mediaOpening ??= this.options.pool.getOrCreateRoom(meeting.sessionId).then(
      (room) => {
        meeting.media = room;
        meeting.mediaOpening = undefined;
        this.wireRoom(meeting, room);
        return room;
      },
      (err: unknown) => {
        meeting.mediaOpening = undefined;
        throw err;
      },
    );
    return meeting.mediaOpening;
  }

  private wireRoom(meeting: Meeting, room: Room): void {
    const peer = (peerId: string) => meeting.participants.get(peerId);
    room.on('newProducer', ({ producer }) =>
      this.broadcast(meeting, 'newProducer', toWireProducer(producer), producer.peerId),
    );
    room.on('producerClosed', ({ producerId, peerId }) =>
      this.broadcast(meeting, 'producerClosed', { producerId, peerId }, peerId),
    );
    room.on('producerPaused', ({ producerId, peerId, paused }) =>
      this.broadcast(meeting, paused ? 'producerPaused' : 'producerResumed', { producerId, peerId }, peerId),
    );
    room.on('consumerClosed', ({ peerId, consumerId, producerId, reason }) => {
      const p = peer(peerId);
      // A consumer closed because its own peer left needs no notice.
      if (p && reason !== 'peer-left' && reason !== 'worker-died' && reason !== 'room-closed')
        this.notify(p, 'consumerClosed', { consumerId, producerId });
    });
    room.on('producerLayersWanted', ({ peerId, producerId, spatialLayer }) => {
      const p = peer(peerId);
      if (p) this.notify(p, 'producerLayersWanted', { producerId, spatialLayer });
    });
    room.on('consumerLayersChanged', ({ peerId, consumerId, layers }) => {
      const p = peer(peerId);
      if (p)
        this.notify(p, 'consumerLayersChanged', {
          consumerId,
          spatialLayer: layers?.spatialLayer ?? null,
          temporalLayer: layers?.temporalLayer ?? null,
        });
    });
    room.on('activeSpeakerChanged', ({ peerId }) => {
      meeting.activeSpeaker = peerId;
      this.broadcast(meeting, 'activeSpeaker', { peerId });
    });
    room.on('closed', () => {
      if (meeting.media === room) meeting.media = undefined;
      for (const p of meeting.participants.values()) p.inMedia = false;
    });
  }

  private leaveMedia(meeting: Meeting, participant: Participant): void {
    if (participant.inMedia && meeting.media && !meeting.media.closed) meeting.media.removePeer(participant.peerId);
    participant.inMedia = false;
  }

  /** Removes a participant from the meeting; reports the leave to the gateway when asked. */
  private dropParticipant(
    meeting: Meeting,
    participant: Participant,
    options: { report: boolean; reason?: 'left' | 'disconnected'; closeCode?: number; closeReason?: string },
  ): void {
    if (meeting.participants.get(participant.peerId) !== participant) return;
    meeting.participants.delete(participant.peerId);
    if (participant.graceTimer) clearTimeout(participant.graceTimer);
    participant.graceTimer = undefined;
    this.leaveMedia(meeting, participant);
    const socket = participant.socket;
    participant.socket = undefined;
    if (socket && options.closeCode !== undefined) socket.close(options.closeCode, options.closeReason);
    this.broadcast(meeting, 'peerLeft', { peerId: participant.peerId });
    if (options.report) {
      this.leaves.report({
        orgId: meeting.orgId,
        sessionId: meeting.sessionId,
        participantId: participant.peerId,
        reason: options.reason ?? 'left',
        at: new Date(this.now()).toISOString(),
      });
    }
    if (meeting.participants.size === 0) this.closeMeeting(meeting);
  }

  private closeMeeting(meeting: Meeting): void {
    if (this.meetings.get(meeting.sessionId) !== meeting) return;
    this.meetings.delete(meeting.sessionId);
    meeting.media?.close();
    meeting.media = undefined;
    this.options.onMeetingClosed?.(meeting.sessionId);
  }

  private workerDied(event: WorkerDiedEvent): void {
    for (const affected of event.rooms) {
      const meeting = this.meetings.get(affected.roomId);
      if (!meeting) continue;
      for (const peerId of affected.peerIds) {
        const p = meeting.participants.get(peerId);
        if (!p) continue;
        p.inMedia = false;
        // The peer is gone from the room; the client rejoins (within the grace, nothing is reported).
        this.notify(p, 'reconnect', { reason: 'media worker failed' });
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Sending

  private peerInfo(p: Participant): PeerInfo {
    return { peerId: p.peerId, displayName: p.claims.name, isHost: p.claims.host };
  }

  private notify<M extends NotificationMethod>(participant: Participant, method: M, data: NotificationData<M>): void {
    if (participant.socket) this.send(participant.socket, { type: 'notification', method, data });
  }

  private broadcast<M extends NotificationMethod>(
    meeting: Meeting,
    method: M,
    data: NotificationData<M>,
    exceptPeerId?: string,
  ): void {
    for (const p of meeting.participants.values()) if (p.peerId !== exceptPeerId) this.notify(p, method, data);
  }

  private respondError(socket: WebSocket, id: number, error: SignalingError): void {
    this.send(socket, { type: 'response', id, ok: false, error });
  }

  private send(socket: WebSocket, message: unknown): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }
}

function toWireProducer(p: ProducerInfo): WireProducerInfo {
  return { producerId: p.producerId, peerId: p.peerId, kind: p.kind, source: p.source, paused: p.paused };
}
