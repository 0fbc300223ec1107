/**
 * A one-to-one call straight between the two browsers (the meeting's `p2p` mode): one
 * RTCPeerConnection, negotiated with the "perfect negotiation" pattern over the SFU's
 * `p2pSignal` relay. The side that found the other already there (see `p2pRole`) adds the
 * three transceivers (mic, camera, screen, in that order) and offers; the other side adopts
 * them in the same order, so each side knows which remote track is which without any extra
 * message. Turning a device off stops sending it (`recvonly`), which mutes the track on the
 * far side: that is how the other side sees it as off.
 */
import type { MediaSource, P2pSignal } from '@quorum/signaling';
import { P2P_SOURCES } from './room-state';

export type Sending = Record<MediaSource, MediaStreamTrack | null>;

export interface P2pCallOptions {
  remotePeerId: string;
  /** Adds the transceivers and makes the first offer. */
  initiator: boolean;
  /** Yields when both sides offer at once. */
  polite: boolean;
  iceServers: RTCIceServer[];
  /** Relays a message to the other side (`p2pSignal`). */
  send: (signal: P2pSignal) => Promise<unknown>;
  /** What to send now, by source (null: nothing). */
  sending: Sending;
  onRemoteTrack: (source: MediaSource, track: MediaStreamTrack) => void;
  /** The other side stopped or resumed sending `source`. */
  onRemotePaused: (source: MediaSource, paused: boolean) => void;
  onConnectionState?: (state: RTCPeerConnectionState) => void;
}

const KIND: Record<MediaSource, 'audio' | 'video'> = { mic: 'audio', camera: 'video', screen: 'video' };
/** A `disconnected` connection often recovers by itself; restart ICE only if it has not after this long. */
const DISCONNECTED_GRACE_MS = 2_500;

export class P2pCall {
  readonly pc: RTCPeerConnection;
  readonly remotePeerId: string;
  private readonly sending: Sending;
  private makingOffer = false;
  private ignoreOffer = false;
  private closed = false;
  /** Signals are handled one at a time, in order (a candidate must wait for its description). */
  private queue: Promise<void> = Promise.resolve();
  private disconnectedTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: P2pCallOptions) {
    this.remotePeerId = options.remotePeerId;
    this.sending = { ...options.sending };
    this.pc = new RTCPeerConnection({ iceServers: options.iceServers, bundlePolicy: 'max-bundle' });
    this.pc.onicecandidate = ({ candidate }) => {
      if (!candidate || !candidate.candidate || this.closed) return;
      this.relay({
        kind: 'candidate',
        candidate: { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex },
      });
    };
    this.pc.onnegotiationneeded = () => void this.offer();
    this.pc.ontrack = (event) => this.onTrack(event);
    this.pc.onconnectionstatechange = () => this.onConnectionState();
    if (options.initiator) {
      for (const source of P2P_SOURCES) {
        const track = this.sending[source];
        if (track) this.pc.addTransceiver(track, { direction: 'sendrecv' });
        else this.pc.addTransceiver(KIND[source], { direction: 'recvonly' });
      }
    }
  }

  /** An offer, answer or candidate from the other side. */
  handleSignal(signal: P2pSignal): Promise<void> {
    this.queue = this.queue
      .then(() => this.process(signal))
      .catch((err: unknown) => console.warn('p2p: could not apply a signal from the other side', signal.kind, err));
    return this.queue;
  }

  /** Starts or stops sending `source` (null: stop); renegotiates when the direction changes. */
  async setSending(source: MediaSource, track: MediaStreamTrack | null): Promise<void> {
    this.sending[source] = track;
    const transceiver = this.transceiverOf(source);
    // Before the first offer the far side's transceivers do not exist yet; they are adopted then.
    if (!transceiver || this.closed) return;
    await this.apply(transceiver, track);
  }

  /** Frames decoded per remote video, for the debug hook and tests. */
  async videoStats(): Promise<Array<{ source: MediaSource; framesDecoded: number }>> {
    const out: Array<{ source: MediaSource; framesDecoded: number }> = [];
    for (const source of ['camera', 'screen'] as const) {
      const t = this.transceiverOf(source);
      if (!t || this.closed) continue;
      const stats = await t.receiver.getStats();
      stats.forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && (s.framesDecoded ?? 0) > 0)
          out.push({ source, framesDecoded: s.framesDecoded ?? 0 });
      });
    }
    return out;
  }

  /** Audio levels (0..1) of the other side and of us, for the peer-to-peer active speaker. */
  async audioLevels(): Promise<{ remote: number; local: number }> {
    const t = this.transceiverOf('mic');
    if (!t || this.closed) return { remote: 0, local: 0 };
    let remote = 0;
    let local = 0;
    (await t.receiver.getStats()).forEach((s: { type: string; kind?: string; audioLevel?: number }) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') remote = s.audioLevel ?? 0;
    });
    if (this.sending.mic) {
      (await t.sender.getStats()).forEach((s: { type: string; kind?: string; audioLevel?: number }) => {
        if (s.type === 'media-source' && s.kind === 'audio') local = s.audioLevel ?? 0;
      });
    }
    return { remote, local };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.disconnectedTimer);
    this.pc.onicecandidate = this.pc.onnegotiationneeded = this.pc.ontrack = this.pc.onconnectionstatechange = null;
    this.pc.close();
  }

  private transceiverOf(source: MediaSource): RTCRtpTransceiver | undefined {
    return this.pc.getTransceivers()[P2P_SOURCES.indexOf(source)];
  }

  private async apply(transceiver: RTCRtpTransceiver, track: MediaStreamTrack | null): Promise<void> {
    if (transceiver.sender.track !== track) await transceiver.sender.replaceTrack(track);
    const direction: RTCRtpTransceiverDirection = track ? 'sendrecv' : 'recvonly';
    // A change of direction fires negotiationneeded, which offers (see `offer`).
    if (transceiver.direction !== direction && !this.closed) transceiver.direction = direction;
  }

  private async offer(): Promise<void> {
    if (this.closed) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      const sdp = this.pc.localDescription?.sdp;
      if (sdp && !this.closed) this.relay({ kind: 'offer', sdp });
    } catch (err) {
      console.warn('p2p: could not make an offer', err);
    } finally {
      this.makingOffer = false;
    }
  }

  private async process(signal: P2pSignal): Promise<void> {
    if (this.closed) return;
    if (signal.kind === 'candidate') {
      try {
        await this.pc.addIceCandidate(signal.candidate);
      } catch (err) {
        // Candidates of an offer we ignored (a collision we won) are expected to fail.
        if (!this.ignoreOffer) throw err;
      }
      return;
    }
    const collision = signal.kind === 'offer' && (this.makingOffer || this.pc.signalingState !== 'stable');
    this.ignoreOffer = !this.options.polite && collision;
    if (this.ignoreOffer) return;
    // The polite side rolls back its own offer implicitly here.
    await this.pc.setRemoteDescription({ type: signal.kind, sdp: signal.sdp });
    if (signal.kind !== 'offer') return;
    // The offer created (or matched) the three transceivers: send on them what we send.
    for (const source of P2P_SOURCES) {
      const t = this.transceiverOf(source);
      if (t) await this.apply(t, this.sending[source]);
    }
    await this.pc.setLocalDescription();
    const sdp = this.pc.localDescription?.sdp;
    if (sdp && !this.closed) this.relay({ kind: 'answer', sdp });
  }

  private relay(signal: P2pSignal): void {
    this.options.send(signal).catch((err: unknown) => {
      // The other side left meanwhile, or the meeting moved to the SFU: this call is over anyway.
      if (!this.closed) console.warn(`p2p: could not relay ${signal.kind}`, err);
    });
  }

  private onTrack(event: RTCTrackEvent): void {
    const index = this.pc.getTransceivers().indexOf(event.transceiver);
    const source = P2P_SOURCES[index];
    if (!source) return;
    const track = event.track;
    track.onmute = () => this.options.onRemotePaused(source, true);
    track.onunmute = () => this.options.onRemotePaused(source, false);
    this.options.onRemoteTrack(source, track);
    this.options.onRemotePaused(source, track.muted);
  }

  private onConnectionState(): void {
    const state = this.pc.connectionState;
    this.options.onConnectionState?.(state);
    clearTimeout(this.disconnectedTimer);
    if (state === 'failed') this.pc.restartIce();
    if (state === 'disconnected') {
      this.disconnectedTimer = setTimeout(() => {
        if (!this.closed && this.pc.connectionState === 'disconnected') this.pc.restartIce();
      }, DISCONNECTED_GRACE_MS);
    }
  }
}
