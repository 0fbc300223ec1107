/**
 * The signaling sockets: one request at a time per socket, in order; a socket that has not
 * joined in time is closed; answers and refusals go back on the socket they came from. A
 * dropped socket takes its participant's media at once, but their leave is reported only after
 * `reconnectGraceMs`, so a rejoin within it (a network blip, a reload) reports nothing.
 */
import { isAppError } from '@quorum/domain';
import { parseRequest, type ClientRequest, type ProtocolError, type SignalingError } from '@quorum/signaling';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { join, type JoinDeps } from './join.handler';
import { handleMediaRequest } from './media.handler';
import type { Meetings } from './meetings';
import { relayP2pSignal } from './p2p-relay.handler';
import { broadcast, respondError, send } from './send';
import { CLOSE_CODES, Refusal, type Connection } from './types';

export interface ConnectionsOptions extends Omit<JoinDeps, 'connections'> {
  logger: Logger;
  reconnectGraceMs: number;
  joinTimeoutMs: number;
}

export class Connections {
  private readonly open = new Set<Connection>();
  private readonly meetings: Meetings;
  private readonly joinDeps: JoinDeps;

  constructor(private readonly options: ConnectionsOptions) {
    this.meetings = options.meetings;
    this.joinDeps = { ...options, connections: this.open };
  }

  accept(socket: WebSocket): void {
    const conn: Connection = {
      socket,
      participant: undefined,
      meeting: undefined,
      queue: Promise.resolve(),
      leaving: false,
    };
    this.open.add(conn);
    const joinTimer = setTimeout(() => {
      if (!conn.participant) socket.close(CLOSE_CODES.unauthorized, 'no join within the time allowed');
    }, this.options.joinTimeoutMs);
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
      this.open.delete(conn);
      conn.queue = conn.queue.then(() => this.onSocketClosed(conn));
    });
    socket.on('error', (err) => this.options.logger.debug({ err }, 'signaling socket error'));
  }

  /** Closes every open socket, joined or not. */
  closeAll(code: number, reason: string): void {
    for (const c of this.open) c.socket.close(code, reason);
  }

  private async onFrame(conn: Connection, frame: string): Promise<void> {
    let request: ClientRequest;
    try {
      request = parseRequest(frame);
    } catch (err) {
      const e = err as ProtocolError;
      if (e.requestId !== undefined)
        respondError(conn.socket, e.requestId, { code: 'BAD_REQUEST', message: e.message });
      else conn.socket.close(CLOSE_CODES.protocol, e.message.slice(0, 120));
      return;
    }
    try {
      const data = await this.handle(conn, request);
      send(conn.socket, { type: 'response', id: request.id, ok: true, data });
      if (request.method === 'leave') conn.socket.close(CLOSE_CODES.left, 'left');
    } catch (err) {
      respondError(conn.socket, request.id, this.toError(err, request.method));
      if (request.method === 'join')
        conn.socket.close(
          err instanceof Refusal && err.code === 'UNAUTHORIZED' ? CLOSE_CODES.unauthorized : CLOSE_CODES.refused,
          'join refused',
        );
    }
  }

  private async handle(conn: Connection, request: ClientRequest): Promise<unknown> {
    if (request.method === 'join') return join(this.joinDeps, conn, request.data);
    const { participant, meeting } = conn;
    if (!participant || !meeting || participant.socket !== conn.socket)
      throw new Refusal('UNAUTHORIZED', 'Send join with a join token first.', 'signaling.not_joined');
    switch (request.method) {
      case 'leave':
        conn.leaving = true;
        this.meetings.drop(meeting, participant, { report: true, reason: 'left' });
        // The socket closes once the answer is sent (see onFrame).
        return {};
      case 'p2pSignal':
        return relayP2pSignal(meeting, participant, request.data);
      default:
        return handleMediaRequest(this.meetings, meeting, participant, request);
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
    this.meetings.leaveMedia(meeting, participant);
    broadcast(meeting, 'peerLeft', { peerId: participant.peerId }, participant.peerId);
    participant.graceTimer = setTimeout(() => {
      participant.graceTimer = undefined;
      if (meeting.participants.get(participant.peerId) === participant && !participant.socket) {
        this.meetings.drop(meeting, participant, { report: true, reason: 'disconnected' });
      }
    }, this.options.reconnectGraceMs);
    participant.graceTimer.unref?.();
  }
}
