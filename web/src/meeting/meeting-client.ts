/**
 * One participant in one meeting, without React: it asks the gateway for a join ticket
 * (`meetings.join`), joins the SFU's signaling with it, and runs the call in the mode the server
 * says (peer-to-peer for two, the SFU from the third participant on, switching when told). It
 * keeps a {@link RoomState} for the page and recovers by itself: a signaling socket that drops
 * (or a `reconnect` from the server) is rejoined with a fresh ticket, which the server takes as
 * the same participant within its grace period. Removal, the end of the meeting, a refusal or a
 * leave end it for good.
 *
 * The local tracks belong to {@link LocalMedia}; calls come and go, the tracks stay.
 */
import type { MediaSource, ServerNotification } from '@quorum/signaling';
import { TicketRefused, type JoinTicket } from './join-ticket';
import type { LocalMedia } from './local-media';
import { P2pCall, type Sending } from './p2p-call';
import { refusal } from './refusal';
import { pollP2pSpeaker } from './p2p-speaker';
import {
  afterClose,
  assertUnreachable,
  endMessage,
  initialRoomState,
  p2pRole,
  rejoinDelayMs,
  roomReducer,
  type Ended,
  type RoomAction,
  type RoomState,
} from './room-state';
import type { JoinTimeline } from './join-timeline';
import { SfuCall } from './sfu-call';
import {
  SignalingRequestError,
  SignalingSocket,
  type CloseInfo,
  type SignalingSocketOptions,
} from './signaling-socket';

export interface MeetingClientOptions {
  meeting: { orgId: string; sessionId: string };
  /** Calls `meetings.join`; throws {@link TicketRefused} for a refusal, anything else to retry. */
  getTicket: () => Promise<JoinTicket>;
  media: LocalMedia;
  socket?: SignalingSocketOptions;
  /** A monotonic clock in ms (`performance.now` by default). */
  now?: () => number;
  /** Rejoin attempts after a drop before giving up. Default 15 (about a minute). */
  maxRejoinAttempts?: number;
}

export type { JoinTimeline } from './join-timeline';
export type Track = MediaStreamTrack;

export class MeetingClient {
  private state: RoomState<Track>;
  private readonly listeners = new Set<() => void>();
  private socket: SignalingSocket | undefined;
  private p2p: P2pCall | undefined;
  private sfu: SfuCall | undefined;
  private iceServers: RTCIceServer[] = [];
  /** Bumped by every (re)join: work of an older one is dropped when it finishes. */
  private epoch = 0;
  private attempt = 0;
  private rejoinTimer: ReturnType<typeof setTimeout> | undefined;
  private speakerTimer: ReturnType<typeof setInterval> | undefined;
  private disposed = false;
  private readonly now: () => number;
  timeline: JoinTimeline = {};
  /** Joins answered by the server, the first one included. */
  private joins = 0;
  readonly meeting: { orgId: string; sessionId: string };

  constructor(private readonly options: MeetingClientOptions) {
    this.meeting = options.meeting;
    this.now = options.now ?? (() => performance.now());
    const m = options.media.getSnapshot();
    this.state = initialRoomState<Track>({
      mic: m.micOn && m.mic !== null,
      camera: m.cameraOn && m.camera !== null,
      screen: false,
    });
    options.media.onScreenEnded = () => void this.setScreen(false);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): RoomState<Track> => this.state;

  /** Joins the meeting (first time). */
  async join(): Promise<void> {
    this.timeline = { joinRequested: this.now() };
    this.dispatch({ type: 'joining' });
    await this.connect(false);
  }

  /** Leaves for good: tells the server (so the others see it at once), then closes everything. */
  async leave(): Promise<void> {
    if (this.state.phase === 'ended') return;
    const socket = this.socket;
    this.end({ reason: 'left', message: endMessage('left') });
    if (socket?.isOpen) {
      await socket
        .request('leave', {})
        .catch((err: unknown) => console.warn('leave was not acknowledged; closing anyway', err));
      socket.close(1000, 'left');
    }
  }

  /** The page is going away: leave if still in, and stop everything. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    void this.leave();
    this.disposed = true;
    this.listeners.clear();
  }

  async setMic(on: boolean): Promise<void> {
    this.options.media.setOn('mic', on);
    this.dispatch({ type: 'local', local: { mic: on && this.options.media.getSnapshot().mic !== null } });
    await this.syncSending('mic');
  }

  async setCamera(on: boolean): Promise<void> {
    this.options.media.setOn('camera', on);
    this.dispatch({ type: 'local', local: { camera: on && this.options.media.getSnapshot().camera !== null } });
    await this.syncSending('camera');
  }

  /** Starts or stops sharing a screen (a second video, source `screen`). */
  async setScreen(on: boolean): Promise<void> {
    if (on) {
      const track = await this.options.media.startScreen();
      if (!track) return;
    } else {
      this.options.media.stopScreen();
    }
    this.dispatch({ type: 'local', local: { screen: this.options.media.getSnapshot().screen !== null } });
    await this.syncSending('screen');
  }

  /** Called by the page when a remote video shows its first frame (join-latency timeline). */
  markRemoteFrame(): void {
    if (this.timeline.firstRemoteFrame === undefined && this.timeline.joinRequested !== undefined) {
      this.timeline.firstRemoteFrame = this.now();
      this.timeline.firstRemoteFrameMode = this.state.mode ?? undefined;
    }
  }

  /** For tests and the benchmark (`window.__quorumMeeting`): the peer connections and decoded frames. */
  debugHandle() {
    return {
      state: () => this.state,
      /** Joins answered by the server: 1, plus one per rejoin. */
      joins: () => this.joins,
      timeline: () => ({ ...this.timeline }),
      /** The RTCPeerConnection of a peer-to-peer call (the SFU's transports wrap their own). */
      peerConnections: (): RTCPeerConnection[] => (this.p2p ? [this.p2p.pc] : []),
      transportIds: (): string[] => this.sfu?.transports.map((t) => t.id) ?? [],
      /** Closes the signaling socket as a network drop would (tests of the rejoin). */
      dropConnection: (): void => this.socket?.close(3000, 'dropped on purpose'),
      /** Frames decoded so far per remote video. */
      remoteVideoStats: async (): Promise<Array<{ peerId: string; source: MediaSource; framesDecoded: number }>> => {
        if (this.p2p) {
          const peerId = this.p2p.remotePeerId;
          return (await this.p2p.videoStats()).map((s) => ({ peerId, ...s }));
        }
        return this.sfu ? this.sfu.videoStats() : [];
      },
    };
  }

  private dispatch(action: RoomAction<Track>): void {
    const next = roomReducer(this.state, action);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
  }

  private sending(): Sending {
    const m = this.options.media.getSnapshot();
    return { mic: m.micOn ? m.mic : null, camera: m.cameraOn ? m.camera : null, screen: m.screen };
  }

  private async syncSending(source: MediaSource): Promise<void> {
    const track = this.sending()[source];
    try {
      await this.p2p?.setSending(source, track);
      await this.sfu?.setSending(source, track);
    } catch (err) {
      console.warn(`could not update ${source}`, err);
    }
  }

  private async connect(rejoin: boolean): Promise<void> {
    const epoch = ++this.epoch;
    const stale = () => epoch !== this.epoch || this.state.phase === 'ended';
    let ticket: JoinTicket;
    try {
      ticket = await this.options.getTicket();
    } catch (err) {
      if (stale()) return;
      if (err instanceof TicketRefused || !rejoin) return this.end(refusal(err));
      return this.scheduleRejoin();
    }
    this.timeline.ticket ??= this.now();
    if (stale()) return;

    let socket: SignalingSocket;
    try {
      socket = await SignalingSocket.connect(ticket.signalingUrl, this.options.socket);
    } catch (err) {
      if (stale()) return;
      if (!rejoin) return this.end(refusal(err));
      return this.scheduleRejoin();
    }
    if (stale()) {
      socket.close();
      return;
    }
    // Notifications that race the join answer wait for it.
    const early: ServerNotification[] = [];
    let joined = false;
    socket.onNotification((n) => (joined ? this.onNotification(socket, n) : early.push(n)));
    socket.onClose((info) => this.onSocketClosed(socket, info));

    let answer;
    try {
      answer = await socket.request('join', { token: ticket.token });
    } catch (err) {
      socket.detach();
      socket.close();
      if (stale()) return;
      const refused = err instanceof SignalingRequestError && !['CLOSED', 'TIMEOUT', 'INTERNAL'].includes(err.code);
      if (refused || !rejoin) return this.end(refusal(err));
      return this.scheduleRejoin();
    }
    if (stale()) {
      socket.detach();
      socket.close();
      return;
    }
    const previous = this.socket;
    this.socket = socket;
    if (previous) {
      previous.detach();
      previous.close(1000, 'rejoined');
    }
    this.attempt = 0;
    this.joins++;
    this.timeline.signalingJoined ??= this.now();
    this.iceServers = answer.iceServers;
    this.dispatch({ type: 'joined', answer });
    this.dispatch({
      type: 'local',
      local: {
        mic: this.sending().mic !== null,
        camera: this.sending().camera !== null,
        screen: this.sending().screen !== null,
      },
    });
    if (answer.mode === 'p2p') {
      const other = answer.peers[0];
      if (other) this.startP2p(other.peerId, true);
    } else {
      this.startSfu();
    }
    this.startSpeakerPolling();
    joined = true;
    for (const n of early) this.onNotification(socket, n);
  }

  private onNotification(socket: SignalingSocket, n: ServerNotification): void {
    if (socket !== this.socket || this.state.phase === 'ended') return;
    this.dispatch({ type: 'notification', notification: n });
    switch (n.method) {
      case 'peerJoined':
        // The newcomer found us there: it offers, we answer (a rejoin replaces the old call).
        if (this.state.mode === 'p2p') this.startP2p(n.data.peerId, false);
        return;
      case 'peerLeft':
        if (this.p2p?.remotePeerId === n.data.peerId) this.closeP2p();
        this.sfu?.peerLeft(n.data.peerId);
        return;
      case 'modeChanged':
        if (n.data.mode === 'sfu') {
          this.closeP2p();
          this.startSfu();
        }
        return;
      case 'p2pSignal':
        if (this.state.mode !== 'p2p') return;
        if (this.p2p?.remotePeerId !== n.data.from) this.startP2p(n.data.from, false);
        void this.p2p?.handleSignal(n.data.signal);
        return;
      case 'newProducer':
        void this.sfu?.consume(n.data);
        return;
      case 'producerClosed':
        this.sfu?.producerClosed(n.data.producerId);
        return;
      case 'consumerClosed':
        this.sfu?.consumerClosed(n.data.consumerId);
        return;
      case 'producerLayersWanted':
        this.sfu?.limitLayers(n.data.producerId, n.data.spatialLayer);
        return;
      case 'peerMuted':
        if (n.data.peerId === this.state.selfId) {
          // The SFU already paused our producer; stop sending it here too, and show it off.
          const source = n.data.kind === 'audio' ? 'mic' : 'camera';
          this.options.media.setOn(source, false);
          void this.syncSending(source);
        }
        return;
      case 'removed':
      case 'meetingEnded':
        // The reducer has recorded how it ended; the socket closes next.
        this.teardown();
        return;
      case 'reconnect':
        this.rejoin();
        return;
      case 'activeSpeaker':
      case 'meetingLocked':
      case 'producerPaused':
      case 'producerResumed':
      case 'consumerLayersChanged':
        return;
      default:
        assertUnreachable(n);
    }
  }

  private onSocketClosed(socket: SignalingSocket, info: CloseInfo): void {
    if (socket !== this.socket || this.state.phase === 'ended') return;
    const outcome = afterClose(info.code);
    if ('end' in outcome) {
      this.end({ reason: outcome.end, message: endMessage(outcome.end) });
      return;
    }
    this.rejoin();
  }

  /** Drops the calls and joins again with a fresh ticket (after a short wait when retrying). */
  private rejoin(): void {
    if (this.state.phase === 'ended' || this.disposed) return;
    this.teardownCalls();
    this.socket?.detach();
    this.dispatch({ type: 'reconnecting' });
    this.scheduleRejoin();
  }

  private scheduleRejoin(): void {
    if (this.state.phase === 'ended' || this.disposed) return;
    if (this.attempt >= (this.options.maxRejoinAttempts ?? 15)) {
      this.end({ reason: 'lost', message: endMessage('lost') });
      return;
    }
    this.dispatch({ type: 'reconnecting' });
    clearTimeout(this.rejoinTimer);
    this.rejoinTimer = setTimeout(() => void this.connect(true), rejoinDelayMs(this.attempt++));
  }

  private startP2p(remotePeerId: string, foundAtJoin: boolean): void {
    this.closeP2p();
    const socket = this.socket;
    if (!socket) return;
    const call: P2pCall = new P2pCall({
      remotePeerId,
      ...p2pRole(foundAtJoin),
      iceServers: this.iceServers,
      send: (signal) => socket.request('p2pSignal', { to: remotePeerId, signal }),
      sending: this.sending(),
      onRemoteTrack: (source, track) => {
        if (this.p2p !== call) return;
        this.dispatch({
          type: 'remoteAdded',
          media: {
            key: `p2p:${remotePeerId}:${source}`,
            peerId: remotePeerId,
            source,
            kind: track.kind as 'audio' | 'video',
            track,
            paused: track.muted,
          },
        });
      },
      onRemotePaused: (source, paused) => {
        if (this.p2p === call) this.dispatch({ type: 'remotePaused', key: `p2p:${remotePeerId}:${source}`, paused });
      },
    });
    this.p2p = call;
  }

  private closeP2p(): void {
    if (!this.p2p) return;
    this.p2p.close();
    this.p2p = undefined;
    this.dispatch({ type: 'remoteCleared' });
  }

  private startSfu(): void {
    if (this.sfu) return;
    const socket = this.socket;
    if (!socket) return;
    const epoch = this.epoch;
    const call: SfuCall = new SfuCall({
      request: (method, data) => socket.request(method, data),
      iceServers: this.iceServers,
      sending: this.sending(),
      onRemoteTrack: (media) => {
        if (this.sfu !== call) return;
        if (media.kind === 'video') this.timeline.firstRemoteVideoTrack ??= this.now();
        this.dispatch({ type: 'remoteAdded', media });
      },
      onStep: (step) => {
        if (this.sfu === call) this.timeline[step] ??= this.now();
      },
      onConnectionState: (direction, state) => {
        if (this.sfu === call && direction === 'recv' && state === 'connected')
          this.timeline.mediaConnected ??= this.now();
      },
      onRemoteGone: (producerId) => {
        if (this.sfu === call) this.dispatch({ type: 'remoteRemoved', key: producerId });
      },
    });
    this.sfu = call;
    call.start(this.state.producers).catch((err: unknown) => {
      if (this.sfu !== call || epoch !== this.epoch || this.state.phase === 'ended') return;
      // Media could not be set up through this connection: start over with a fresh one.
      console.warn('sfu: setting up media failed; rejoining', err);
      this.rejoin();
    });
  }

  private startSpeakerPolling(): void {
    clearInterval(this.speakerTimer);
    this.speakerTimer = pollP2pSpeaker({
      call: () => this.p2p,
      state: () => this.state,
      setSpeaker: (peerId) => this.dispatch({ type: 'speaker', peerId }),
    });
  }

  private end(ended: Ended): void {
    this.dispatch({ type: 'ended', ended });
    this.teardown();
  }

  private teardownCalls(): void {
    this.closeP2p();
    this.sfu?.close();
    this.sfu = undefined;
    this.dispatch({ type: 'remoteCleared' });
  }

  private teardown(): void {
    this.epoch++;
    clearTimeout(this.rejoinTimer);
    clearInterval(this.speakerTimer);
    this.teardownCalls();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.detach();
      // `leave` closes it itself once acknowledged.
      if (this.state.ended?.reason !== 'left') socket.close(1000, 'meeting over');
    }
  }
}
