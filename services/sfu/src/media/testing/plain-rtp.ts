/**
 * Real RTP through a room, for integration tests and benchmarks: a peer's PlainTransport
 * producer fed by an `RtpSender` (comedia: the SFU learns the sender's address from its first
 * packet), and PlainTransport consumers sending to an `RtpReceiver`. Goes through the same Room
 * API signaling uses, so placement, pipes and events are the real ones.
 */
import { randomInt } from 'node:crypto';
import type { Room } from '../room';
import type { ConsumerLayers, ConsumerParams, MediaSource, RtpParameters } from '../types';
import type { RtpReceiver } from './rtp-receiver';
import { RtpSender } from './rtp-sender';

export const OPUS_PAYLOAD_TYPE = 100;
export const VP8_PAYLOAD_TYPE = 101;
export const AUDIO_LEVEL_EXTENSION_ID = 1;
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/** A random non-zero SSRC. */
export function randomSsrc(): number {
  return randomInt(1, 0xffff_ffff);
}

/** Opus 48 kHz stereo on one SSRC, with ssrc-audio-level (which the ActiveSpeakerObserver reads). */
export function opusRtpParameters(ssrc: number): RtpParameters {
  return {
    codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PAYLOAD_TYPE, clockRate: 48_000, channels: 2 }],
    headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: AUDIO_LEVEL_EXTENSION_ID }],
    encodings: [{ ssrc }],
  };
}

/** VP8 on one SSRC, or simulcast with one encoding per SSRC (lowest first). */
export function vp8RtpParameters(ssrcs: readonly number[]): RtpParameters {
  return {
    codecs: [
      {
        mimeType: 'video/VP8',
        payloadType: VP8_PAYLOAD_TYPE,
        clockRate: 90_000,
        rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
      },
    ],
    encodings: ssrcs.map((ssrc) => ({ ssrc })),
  };
}

export interface RtpProducerOptions {
  source: MediaSource;
  /** Video only: three SSRCs make a simulcast producer. Default: one random SSRC. */
  ssrcs?: readonly number[];
  packetsPerSecond?: number;
  payloadSize?: number;
  framesPerSecond?: number;
  keyFrameIntervalMs?: number;
  /** Audio only: the ssrc-audio-level to send (-dBov; 127 is silence). Default 127. */
  audioLevelDbov?: number;
  paused?: boolean;
}

export interface RtpProducer {
  producerId: string;
  transportId: string;
  /** Not started: call `sender.start()`. */
  sender: RtpSender;
}

/**
 * Creates a `send` PlainTransport (comedia) for the peer, a producer on it, and an RtpSender
 * aimed at it. Close the sender when done; the transport goes with the peer or room.
 */
export async function createRtpProducer(room: Room, peerId: string, options: RtpProducerOptions): Promise<RtpProducer> {
  const audio = options.source === 'mic';
  const ssrcs = options.ssrcs ?? [randomSsrc()];
  const firstSsrc = ssrcs[0];
  if (firstSsrc === undefined) throw new Error('createRtpProducer needs at least one SSRC');
  const transport = await room.createPlainTransport(peerId, { direction: 'send', comedia: true });
  const producer = await room.produce(peerId, {
    transportId: transport.transportId,
    kind: audio ? 'audio' : 'video',
    source: options.source,
    rtpParameters: audio ? opusRtpParameters(firstSsrc) : vp8RtpParameters(ssrcs),
    ...(options.paused === undefined ? {} : { paused: options.paused }),
  });
  const sender = await RtpSender.open({
    target: { ip: transport.ip, port: transport.port },
    kind: audio ? 'audio' : 'video',
    payloadType: audio ? OPUS_PAYLOAD_TYPE : VP8_PAYLOAD_TYPE,
    clockRate: audio ? 48_000 : 90_000,
    ssrcs: audio ? [firstSsrc] : ssrcs,
    ...(options.packetsPerSecond === undefined ? {} : { packetsPerSecond: options.packetsPerSecond }),
    ...(options.payloadSize === undefined ? {} : { payloadSize: options.payloadSize }),
    ...(options.framesPerSecond === undefined ? {} : { framesPerSecond: options.framesPerSecond }),
    ...(options.keyFrameIntervalMs === undefined ? {} : { keyFrameIntervalMs: options.keyFrameIntervalMs }),
    ...(audio
      ? { audioLevel: { extensionId: AUDIO_LEVEL_EXTENSION_ID, levelDbov: options.audioLevelDbov ?? 127 } }
      : {}),
  });
  return { producerId: producer.producerId, transportId: transport.transportId, sender };
}

/** A `recv` PlainTransport for the peer that sends to `receiver` (many consumers may share it). */
export async function createRtpReceiveTransport(room: Room, peerId: string, receiver: RtpReceiver): Promise<string> {
  const transport = await room.createPlainTransport(peerId, { direction: 'recv' });
  await room.connectPlainTransport(peerId, transport.transportId, receiver.address);
  return transport.transportId;
}

export interface RtpConsumer extends ConsumerParams {
  /** The SSRC the consumer sends with: look it up in the receiver. */
  ssrc: number;
}

/**
 * Consumes `producerId` on the peer's PlainTransport `transportId` with the room's own RTP
 * capabilities, registers the consumer's SSRC with `receiver` and resumes it (as a client would
 * once ready) unless `paused`.
 */
export async function consumeRtp(
  room: Room,
  peerId: string,
  options: {
    producerId: string;
    transportId: string;
    receiver: RtpReceiver;
    paused?: boolean;
    preferredLayers?: ConsumerLayers;
  },
): Promise<RtpConsumer> {
  const params = await room.consume(peerId, {
    producerId: options.producerId,
    transportId: options.transportId,
    rtpCapabilities: room.rtpCapabilities,
    ...(options.preferredLayers ? { preferredLayers: options.preferredLayers } : {}),
  });
  const ssrc = params.rtpParameters.encodings?.[0]?.ssrc;
  if (ssrc === undefined) throw new Error(`consumer ${params.consumerId} has no SSRC`);
  options.receiver.expect(ssrc);
  if (!options.paused) await room.resumeConsumer(peerId, params.consumerId);
  return { ...params, ssrc };
}
