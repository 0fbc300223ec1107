/**
 * The media layer's public types: what signaling sends to clients (transport, producer and
 * consumer parameters), the events it relays, and the server state view used by tests.
 */
import type { types as ms } from 'mediasoup';

export type MediaKind = ms.MediaKind;
export type RtpCapabilities = ms.RtpCapabilities;
export type RtpParameters = ms.RtpParameters;
export type DtlsParameters = ms.DtlsParameters;
export type IceParameters = ms.IceParameters;
export type IceCandidate = ms.IceCandidate;
export type ConsumerLayers = ms.ConsumerLayers;
export type ConsumerType = ms.ConsumerType;
export type WorkerResourceUsage = ms.WorkerResourceUsage;

/** What a producer carries. `mic` is audio; `camera` and `screen` are video (screen share is a second video producer). */
export type MediaSource = 'mic' | 'camera' | 'screen';

/** The kind each source must have. */
export const SOURCE_KIND: Readonly<Record<MediaSource, MediaKind>> = { mic: 'audio', camera: 'video', screen: 'video' };

/** A transport either carries the peer's producers (`send`) or its consumers (`recv`). */
export type TransportDirection = 'send' | 'recv';

export type TransportType = 'webrtc' | 'plain';

export interface AddPeerOptions {
  /** The client's device capabilities; can also be given later or per `consume()`. */
  rtpCapabilities?: RtpCapabilities;
}

export interface PeerJoined {
  roomId: string;
  peerId: string;
  /** The pool slot of the worker the peer was placed on. */
  workerIndex: number;
  routerId: string;
  /** The router's capabilities (the same on every router of the room): load the client device with these. */
  rtpCapabilities: RtpCapabilities;
}

/** What the client needs for `device.createSendTransport()` / `createRecvTransport()`. */
export interface WebRtcTransportParams {
  transportId: string;
  direction: TransportDirection;
  iceParameters: IceParameters;
  iceCandidates: IceCandidate[];
  dtlsParameters: DtlsParameters;
}

export interface PlainTransportOptions {
  direction: TransportDirection;
  /** Learn the remote address from the first packet received (send side). Default `false`. */
  comedia?: boolean;
  /** RTP and RTCP on one port. Default `true`. */
  rtcpMux?: boolean;
}

/** Where the SFU listens for a PlainTransport. */
export interface PlainTransportParams {
  transportId: string;
  direction: TransportDirection;
  ip: string;
  port: number;
  /** Only without RTCP mux. */
  rtcpPort?: number;
}

/** The remote end of a PlainTransport (where the SFU sends to). */
export interface PlainTransportRemote {
  ip: string;
  port: number;
  rtcpPort?: number;
}

export interface ProduceOptions {
  /** A `send` transport of the peer. */
  transportId: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
  /** `mic` with audio, `camera`/`screen` with video; a peer has at most one producer per source. */
  source: MediaSource;
  paused?: boolean;
}

/** A producer as other peers see it. Its id is the same on every router of the room (pipes keep it). */
export interface ProducerInfo {
  producerId: string;
  peerId: string;
  kind: MediaKind;
  source: MediaSource;
  /** `simple` or, for VP8 with several encodings, `simulcast`. */
  type: ms.ProducerType;
  paused: boolean;
}

export interface ConsumeOptions {
  producerId: string;
  /** A `recv` transport of the peer; default: the peer's most recently created `recv` transport. */
  transportId?: string;
  /** Default: the capabilities given to `addPeer()` / `setPeerRtpCapabilities()`. */
  rtpCapabilities?: RtpCapabilities;
  /** Simulcast and SVC consumers start at these layers (ignored for others); default: the highest. */
  preferredLayers?: ConsumerLayers;
}

/** What the client needs for `transport.consume()`. The consumer starts paused: resume it once the client is ready. */
export interface ConsumerParams {
  consumerId: string;
  producerId: string;
  /** The peer that owns the producer. */
  producerPeerId: string;
  kind: MediaKind;
  source: MediaSource;
  rtpParameters: RtpParameters;
  /** `simple`, or `simulcast` (then `setConsumerPreferredLayers()` applies). */
  type: ConsumerType;
  producerPaused: boolean;
}

/**
 * Why a producer closed:
 * - `closed`: `closeProducer()`;
 * - `transport-closed`: its transport was closed with `closeTransport()`;
 * - `peer-left`: `removePeer()`;
 * - `worker-died`: its worker died (the peer is removed too);
 * - `room-closed`: `room.close()` or the pool closed.
 */
export type ProducerCloseReason = 'closed' | 'transport-closed' | 'peer-left' | 'worker-died' | 'room-closed';

/** Why a consumer closed: as for producers, plus `producer-closed` (the producer it consumed went away). */
export type ConsumerCloseReason = ProducerCloseReason | 'producer-closed';

export type PeerLeftReason = 'left' | 'worker-died' | 'room-closed';

export interface NewProducerEvent {
  roomId: string;
  producer: ProducerInfo;
}

export interface ProducerClosedEvent {
  roomId: string;
  peerId: string;
  producerId: string;
  reason: ProducerCloseReason;
}

export interface ProducerPausedEvent {
  roomId: string;
  peerId: string;
  producerId: string;
  paused: boolean;
}

export interface ConsumerClosedEvent {
  roomId: string;
  /** The consuming peer (the one to notify). */
  peerId: string;
  consumerId: string;
  producerId: string;
  reason: ConsumerCloseReason;
}

/** The producer behind a consumer was paused or resumed (mediasoup-demo's `consumerPaused` / `consumerResumed`). */
export interface ConsumerProducerPausedEvent {
  roomId: string;
  peerId: string;
  consumerId: string;
  producerId: string;
  producerPaused: boolean;
}

export interface ConsumerLayersChangedEvent {
  roomId: string;
  peerId: string;
  consumerId: string;
  /** `null` when the consumer forwards nothing (e.g. paused producer, no layer available). */
  layers: ConsumerLayers | null;
}

/** The highest spatial layer the consumers of a simulcast producer want (see `Room`). */
export interface ProducerLayersWantedEvent {
  roomId: string;
  /** The producer's owner. */
  peerId: string;
  producerId: string;
  spatialLayer: number;
}

export interface ActiveSpeakerChangedEvent {
  roomId: string;
  peerId: string;
  /** The `mic` producer that is now dominant. */
  producerId: string;
}

export interface PeerLeftEvent {
  roomId: string;
  peerId: string;
  reason: PeerLeftReason;
}

/**
 * Room events. Every producer and consumer that goes away emits exactly one close event with its
 * reason, whoever caused it; a leaving peer's own producers and consumers close (with
 * `peer-left` / `worker-died` / `room-closed`) before its `peerLeft`.
 */
export type RoomEvents = {
  newProducer: [NewProducerEvent];
  producerClosed: [ProducerClosedEvent];
  producerPaused: [ProducerPausedEvent];
  consumerClosed: [ConsumerClosedEvent];
  consumerProducerPaused: [ConsumerProducerPausedEvent];
  consumerLayersChanged: [ConsumerLayersChangedEvent];
  producerLayersWanted: [ProducerLayersWantedEvent];
  activeSpeakerChanged: [ActiveSpeakerChangedEvent];
  peerLeft: [PeerLeftEvent];
  closed: [{ roomId: string }];
};

export interface AffectedRoom {
  roomId: string;
  /** Peers that were placed on the dead worker; they have been removed from the room. */
  peerIds: string[];
}

export interface WorkerDiedEvent {
  workerIndex: number;
  pid: number;
  error: Error;
  /** Every room that had a router on the worker (possibly with no peers there). */
  rooms: AffectedRoom[];
}

export interface WorkerReplacedEvent {
  workerIndex: number;
  pid: number;
  previousPid: number;
  webRtcServerPort: number;
}

export interface WorkerReplaceFailedEvent {
  workerIndex: number;
  attempt: number;
  error: Error;
  /** When the next attempt starts. */
  retryInMs: number;
}

export type WorkerPoolEvents = {
  workerDied: [WorkerDiedEvent];
  workerReplaced: [WorkerReplacedEvent];
  workerReplaceFailed: [WorkerReplaceFailedEvent];
};

export interface WorkerStats {
  workerIndex: number;
  pid: number;
  /** Consumers on the worker, pipe consumers included: what the budget counts. */
  consumers: number;
  consumerBudget: number;
  routers: number;
  /** From `worker.getResourceUsage()`; `ru_utime`/`ru_stime` are CPU milliseconds since the worker started. */
  resourceUsage: WorkerResourceUsage;
}

export interface WorkerState {
  workerIndex: number;
  pid: number;
  consumers: number;
  routerIds: string[];
  /** The WebRtcServer's port (UDP and TCP). */
  webRtcServerPort: number;
}

export interface TransportState {
  transportId: string;
  type: TransportType;
  direction: TransportDirection;
  producerIds: string[];
  consumerIds: string[];
}

export interface PeerState {
  peerId: string;
  workerIndex: number;
  routerId: string;
  transports: TransportState[];
  producerIds: string[];
  consumerIds: string[];
}

export interface RoomRouterState {
  routerId: string;
  workerIndex: number;
  pid: number;
  peerIds: string[];
  /** The router holding the room's ActiveSpeakerObserver. */
  activeSpeaker: boolean;
}

export interface RoomState {
  roomId: string;
  currentWorkerIndex: number | undefined;
  routers: RoomRouterState[];
  peers: PeerState[];
  producers: ProducerInfo[];
  /** `<producerId>-><routerId>` for every producer piped into another router of the room. */
  pipes: string[];
  /** The microphones forwarded while the room gates them (more unmuted than `audibleSpeakers`); `null`: every one. */
  audibleProducerIds: string[] | null;
}

/** A synchronous snapshot of the pool: no request to the workers. */
export interface ServerState {
  workers: WorkerState[];
  rooms: RoomState[];
}
