/**
 * The room's own bookkeeping, shared by its modules: each record holds a live mediasoup object
 * and what the room knows about it. Nothing here leaves the media layer; what signaling sees is
 * in `../types.ts`.
 */
import type { types as ms } from 'mediasoup';
import type { MediaWorker } from '../media-worker';
import type {
  ConsumerCloseReason,
  MediaSource,
  PeerLeftReason,
  ProducerCloseReason,
  RtpCapabilities,
  TransportDirection,
} from '../types';

/** Settings the pool hands to each room. */
export interface RoomSettings {
  consumerBudgetPerWorker: number;
  listenIp: string;
  announcedIp: string | undefined;
  activeSpeakerIntervalMs: number;
  /** Microphones forwarded at once in a room with more than this many; 0: every one. */
  audibleSpeakers: number;
  /** A microphone keeps its slot this long after it was last heard. */
  audibleHoldMs: number;
  /** How long a simulcast producer's wanted layer must stay lower before its owner is told. */
  layersLowerAfterMs: number;
  /** AudioLevelObserver interval and threshold (dBov, -127 to 0) for what counts as heard. */
  audioLevelIntervalMs: number;
  audioLevelThresholdDbov: number;
  initialAvailableOutgoingBitrate: number;
  maxIncomingBitrate: number | undefined;
}

export interface RouterRecord {
  router: ms.Router;
  worker: MediaWorker;
  peerIds: Set<string>;
}

export interface PeerRecord {
  id: string;
  router: RouterRecord;
  rtpCapabilities: RtpCapabilities | undefined;
  transports: Map<string, TransportRecord>;
  producers: Map<string, ProducerRecord>;
  consumers: Map<string, ConsumerRecord>;
  /** Sources with a produce() in flight, so two calls cannot both take one source. */
  pendingSources: Set<MediaSource>;
  leaving: PeerLeftReason | undefined;
}

interface TransportBase {
  id: string;
  direction: TransportDirection;
  peer: PeerRecord;
  router: RouterRecord;
  /** Set by whoever closes the transport on purpose; read by its producers and consumers. */
  closing: ProducerCloseReason | undefined;
}
export type TransportRecord =
  | (TransportBase & { type: 'webrtc'; transport: ms.WebRtcTransport })
  | (TransportBase & { type: 'plain'; transport: ms.PlainTransport });

export type CreatedTransport =
  | { type: 'webrtc'; transport: ms.WebRtcTransport; direction: TransportDirection }
  | { type: 'plain'; transport: ms.PlainTransport; direction: TransportDirection };

export interface ProducerRecord {
  producer: ms.Producer;
  peer: PeerRecord;
  transport: TransportRecord;
  router: RouterRecord;
  source: MediaSource;
  closing: ProducerCloseReason | undefined;
  /** The highest spatial layer last told to the owner; `undefined` before any consumer. */
  wantedSpatial: number | undefined;
  /** A lower `wantedSpatial` waiting out `layersLowerAfterMs`. */
  lowering: NodeJS.Timeout | undefined;
}

export interface ConsumerRecord {
  consumer: ms.Consumer;
  peer: PeerRecord;
  transport: TransportRecord;
  producerId: string;
  producerPeerId: string;
  source: MediaSource;
  closing: ConsumerCloseReason | undefined;
  /** Paused by the client (consumers start so, until `resumeConsumer()`). */
  clientPaused: boolean;
  /** The spatial layer the client asked for (the highest when it did not say). */
  spatialWanted: number;
  /** Paused by the room: a microphone not among the audible ones. */
  gated: boolean;
  /** The last pause/resume sent to the worker, so they apply in order. */
  pausing: Promise<void>;
}
