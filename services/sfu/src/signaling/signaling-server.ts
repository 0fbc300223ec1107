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
 *
 * The server is the face of the modules beside it: the sockets (`connections.ts`), the
 * requests (`*.handler.ts`), the meetings on this node (`meetings.ts`), host controls
 * (`session-events.ts`) and access changes (`access.ts`).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { MAX_FRAME_BYTES, type IceServer } from '@quorum/signaling';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { WorkerPool } from '../media/worker-pool';
import { reportPresent, revokeAccess } from './access';
import { Connections } from './connections';
import { LeaveReports } from './leave-reports';
import { Meetings } from './meetings';
import { notify } from './send';
import { applySessionEvent, type SessionEvent } from './session-events';
import type { SessionReporter } from './session-reporter';
import { CLOSE_CODES } from './types';

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

export class SignalingServer {
  private readonly wss: WebSocketServer;
  private readonly meetings: Meetings;
  private readonly connections: Connections;
  private closed = false;
  /** Leave reports on their way to the gateway (retried while it does not answer); `close()` flushes them. */
  private readonly leaves: LeaveReports;

  constructor(private readonly options: SignalingServerOptions) {
    const now = options.now ?? Date.now;
    this.leaves = new LeaveReports({
      reporter: options.reporter,
      logger: options.logger,
      now,
      ...(options.leaveRetryMs !== undefined ? { retryForMs: options.leaveRetryMs } : {}),
      ...(options.leaveRetryFirstDelayMs !== undefined ? { firstDelayMs: options.leaveRetryFirstDelayMs } : {}),
    });
    this.meetings = new Meetings({
      pool: options.pool,
      leaves: this.leaves,
      logger: options.logger,
      now,
      onMeetingOpened: options.onMeetingOpened,
      onMeetingClosed: options.onMeetingClosed,
    });
    this.connections = new Connections({
      meetings: this.meetings,
      leaves: this.leaves,
      reporter: options.reporter,
      joinTokenSecret: options.joinTokenSecret,
      iceServers: options.iceServers,
      now,
      closed: () => this.closed,
      logger: options.logger,
      reconnectGraceMs: options.reconnectGraceMs ?? 10_000,
      joinTimeoutMs: options.joinTimeoutMs ?? 10_000,
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
    this.wss.on('connection', (socket) => this.connections.accept(socket));
    options.pool.on('workerDied', (event) => this.meetings.workerDied(event));
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
    return this.meetings.state();
  }

  /** See {@link reportPresent}: every connected participant reported as joined again. */
  reportPresent(): Promise<number> {
    return reportPresent(this.meetings, this.options.reporter, this.options.logger);
  }

  /** Consumers forwarded by this node, for placement load. */
  get participantCount(): number {
    return this.meetings.participantCount;
  }

  /**
   * Someone lost access to an organization (removed from it, or their API key revoked): they are
   * disconnected from each of its meetings here, and their leave is reported. Resolves with how
   * many were disconnected.
   */
  revokeAccess(orgId: string, participantId: string): number {
    return revokeAccess(this.meetings, orgId, participantId);
  }

  /**
   * Enforces a host control or lifecycle event from the bus on a meeting this node hosts;
   * events of other meetings are ignored.
   */
  applySessionEvent(event: SessionEvent): Promise<void> {
    return applySessionEvent(this.meetings, this.options.logger, event);
  }

  /** Closes every socket (participants are told to reconnect elsewhere) and every room. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const meeting of this.meetings.all()) {
      for (const p of [...meeting.participants.values()]) {
        if (p.graceTimer) clearTimeout(p.graceTimer);
        if (p.socket) notify(p, 'reconnect', { reason: 'server shutting down' });
        // Report leaves so the stream does not keep them present; rejoining elsewhere rejoins.
        this.meetings.drop(meeting, p, {
          report: true,
          reason: 'disconnected',
          closeCode: CLOSE_CODES.shutdown,
          closeReason: 'server shutting down',
        });
      }
    }
    this.connections.closeAll(CLOSE_CODES.shutdown, 'server shutting down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await this.leaves.flush();
  }
}
