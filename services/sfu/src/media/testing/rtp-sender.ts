/**
 * Generates real RTP from a UDP socket at a steady packet rate: Opus-like audio (one packet per
 * 20 ms frame, optional ssrc-audio-level) or VP8-like video (frames of several packets, a key
 * frame every `keyFrameIntervalMs` and on the SFU's PLI/FIR), on one SSRC or, for simulcast,
 * on several SSRCs with the same schedule, with an RTCP Sender Report per SSRC every
 * `senderReportIntervalMs`. Payload bytes are filler: mediasoup forwards without decoding, it only
 * reads the VP8 payload descriptor and the audio level.
 */
import dgram from 'node:dgram';
import {
  audioLevelByte,
  buildRtpHeader,
  buildSenderReport,
  isKeyFrameRequest,
  isRtcp,
  vp8PayloadPrefix,
} from './rtp-packet';

export interface RtpSenderOptions {
  /** The PlainTransport's address. */
  target: { ip: string; port: number };
  kind: 'audio' | 'video';
  payloadType: number;
  clockRate: number;
  /** One per stream (three for VP8 simulcast). */
  ssrcs: readonly number[];
  /** Per SSRC. Default 50 (audio) / 150 (video). */
  packetsPerSecond?: number;
  /** Bytes after the RTP header. Default 120 (audio) / 1000 (video). */
  payloadSize?: number;
  /** Video frames per second (packets per frame = rate / fps). Default 30. */
  framesPerSecond?: number;
  /** Default 1000 ms. */
  keyFrameIntervalMs?: number;
  /**
   * Adds ssrc-audio-level with this extension id (audio only). Below 127 (silence) one packet in
   * 50 dips 50 dB: mediasoup's dominant speaker detector takes a speaker's lowest level for its
   * noise floor, so a perfectly constant level would count as silence.
   */
  audioLevel?: { extensionId: number; levelDbov: number };
  /** Default 500 ms. */
  senderReportIntervalMs?: number;
  /** Local address to bind. Default 127.0.0.1. */
  bindIp?: string;
}

interface StreamState {
  ssrc: number;
  sequenceNumber: number;
  sent: number;
  octets: number;
}

const TICK_MS = 10;

export class RtpSender {
  private readonly streams: StreamState[];
  private readonly packetsPerSecond: number;
  private readonly packetsPerFrame: number;
  private readonly timestampStep: number;
  private readonly payload: Buffer;
  private readonly keyFrameEveryFrames: number;
  private timer: NodeJS.Timeout | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private packetIndex = 0;
  private keyFrameRequested = false;
  private keyFrameRequests = 0;
  private errors = 0;
  private isClosed = false;
  private level: number | undefined;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly options: RtpSenderOptions,
  ) {
    const video = options.kind === 'video';
    this.packetsPerSecond = options.packetsPerSecond ?? (video ? 150 : 50);
    const fps = video ? (options.framesPerSecond ?? 30) : this.packetsPerSecond;
    this.packetsPerFrame = Math.max(1, Math.round(this.packetsPerSecond / fps));
    const framesPerSecond = this.packetsPerSecond / this.packetsPerFrame;
    this.timestampStep = Math.round(options.clockRate / framesPerSecond);
    this.keyFrameEveryFrames = Math.max(
      1,
      Math.round(((options.keyFrameIntervalMs ?? 1_000) / 1_000) * framesPerSecond),
    );
    this.payload = Buffer.alloc(Math.max(0, (options.payloadSize ?? (video ? 1_000 : 120)) - (video ? 5 : 0)), 0xab);
    this.level = options.audioLevel?.levelDbov;
    this.streams = options.ssrcs.map((ssrc, i) => ({
      ssrc,
      sequenceNumber: (1_000 * (i + 1)) & 0xffff,
      sent: 0,
      octets: 0,
    }));
    // Without a send callback dgram reports send errors here; an unhandled 'error' would crash the process.
    socket.on('error', () => this.errors++);
    socket.on('message', (message) => {
      if (isRtcp(message) && isKeyFrameRequest(message)) {
        this.keyFrameRequests++;
        this.keyFrameRequested = true;
      }
    });
  }

  /** Binds the socket (an ephemeral port on 127.0.0.1); call `start()` to send. */
  static async open(options: RtpSenderOptions): Promise<RtpSender> {
    if (options.ssrcs.length === 0) throw new Error('RtpSender needs at least one SSRC');
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, options.bindIp ?? '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new RtpSender(socket, options);
  }

  /** Sends on schedule from now on (a stopped sender resumes where its sequence numbers were). */
  start(): void {
    if (this.isClosed) throw new Error('RtpSender is closed');
    if (this.timer) return;
    this.startedAt = performance.now();
    const base = this.packetIndex;
    this.keyFrameRequested = true; // start (and restart) on a key frame
    this.timer = setInterval(() => {
      const due = base + Math.floor(((performance.now() - this.startedAt) * this.packetsPerSecond) / 1_000);
      while (this.packetIndex < due) this.sendNext();
    }, TICK_MS);
    this.reportTimer = setInterval(() => this.sendReports(), this.options.senderReportIntervalMs ?? 500);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.reportTimer) clearInterval(this.reportTimer);
    this.timer = undefined;
    this.reportTimer = undefined;
  }

  /** Changes the audio level carried from the next packet on (audio with `audioLevel` only). */
  setAudioLevel(levelDbov: number): void {
    this.level = levelDbov;
  }

  /** Packets sent per SSRC. */
  sentBySsrc(ssrc: number): number {
    return this.streams.find((s) => s.ssrc === ssrc)?.sent ?? 0;
  }

  /** Packets sent on the first SSRC. */
  get sent(): number {
    return this.streams[0]?.sent ?? 0;
  }

  get ssrcs(): number[] {
    return this.streams.map((s) => s.ssrc);
  }

  /** PLI/FIR received from the SFU. */
  get keyFrameRequestCount(): number {
    return this.keyFrameRequests;
  }

  /** Send errors reported by the socket (e.g. ENOBUFS). */
  get sendErrors(): number {
    return this.errors;
  }

  /** Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.stop();
    this.socket.close();
  }

  private sendNext(): void {
    const index = this.packetIndex++;
    const frame = Math.floor(index / this.packetsPerFrame);
    const positionInFrame = index % this.packetsPerFrame;
    const startOfFrame = positionInFrame === 0;
    const endOfFrame = positionInFrame === this.packetsPerFrame - 1;
    let keyFrame = false;
    if (startOfFrame && (this.keyFrameRequested || frame % this.keyFrameEveryFrames === 0)) {
      keyFrame = true;
      this.keyFrameRequested = false;
    }
    const timestamp = (frame * this.timestampStep) >>> 0;
    const video = this.options.kind === 'video';
    const level = this.options.audioLevel;
    const levelDbov =
      this.level !== undefined && this.level < 127 && index % 50 === 49 ? Math.min(126, this.level + 50) : this.level;
    for (const stream of this.streams) {
      const header = buildRtpHeader({
        payloadType: this.options.payloadType,
        sequenceNumber: stream.sequenceNumber,
        timestamp,
        ssrc: stream.ssrc,
        marker: video ? endOfFrame : false,
        ...(level && levelDbov !== undefined
          ? { extensions: [{ id: level.extensionId, value: audioLevelByte(levelDbov, levelDbov < 127) }] }
          : {}),
      });
      const parts = video
        ? [header, vp8PayloadPrefix({ startOfFrame, keyFrame, pictureId: frame }), this.payload]
        : [header, this.payload];
      this.socket.send(parts, this.options.target.port, this.options.target.ip);
      stream.sequenceNumber = (stream.sequenceNumber + 1) & 0xffff;
      stream.sent++;
      stream.octets += parts.reduce((n, part) => n + part.length, 0) - header.length;
    }
  }

  private sendReports(): void {
    const rtpTimestamp = Math.floor(this.packetIndex / this.packetsPerFrame) * this.timestampStep;
    for (const stream of this.streams) {
      if (stream.sent === 0) continue;
      const report = buildSenderReport({
        ssrc: stream.ssrc,
        wallClockMs: Date.now(),
        rtpTimestamp,
        packetCount: stream.sent,
        octetCount: stream.octets,
      });
      this.socket.send(report, this.options.target.port, this.options.target.ip);
    }
  }
}
