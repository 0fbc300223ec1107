/**
 * `@quorum/sfu/media`: the SFU's media layer on mediasoup 3.12 — a pool of workers, rooms with
 * placement under a per-worker consumer budget, pipes between workers, and typed events for
 * the signaling server. Start with `WorkerPool.create()`; see docs/mediasoup.md.
 */
export { WorkerPool, type WorkerPoolOptions } from './worker-pool';
export { Room } from './room';
export type { MediaWorker } from './media-worker';
export { MEDIA_CODECS } from './codecs';
/** The mediasoup version the media layer runs (pinned to 3.12.16, see docs/mediasoup.md). */
export { version as mediasoupVersion } from 'mediasoup';
export {
  choosePlacement,
  type WorkerPlacement,
  type PlacementInput,
  type PlacementReason,
  type WorkerLoad,
} from './placement';
export {
  SOURCE_KIND,
  type ActiveSpeakerChangedEvent,
  type AddPeerOptions,
  type AffectedRoom,
  type ConsumeOptions,
  type ConsumerClosedEvent,
  type ConsumerCloseReason,
  type ConsumerLayers,
  type ConsumerLayersChangedEvent,
  type ConsumerParams,
  type ConsumerProducerPausedEvent,
  type ConsumerType,
  type DtlsParameters,
  type IceCandidate,
  type IceParameters,
  type MediaKind,
  type MediaSource,
  type NewProducerEvent,
  type PeerJoined,
  type PeerLeftEvent,
  type PeerLeftReason,
  type PeerState,
  type PlainTransportOptions,
  type PlainTransportParams,
  type PlainTransportRemote,
  type ProduceOptions,
  type ProducerClosedEvent,
  type ProducerCloseReason,
  type ProducerInfo,
  type ProducerPausedEvent,
  type RoomEvents,
  type RoomRouterState,
  type RoomState,
  type RtpCapabilities,
  type RtpParameters,
  type ServerState,
  type TransportDirection,
  type TransportState,
  type TransportType,
  type WebRtcTransportParams,
  type WorkerDiedEvent,
  type WorkerPoolEvents,
  type WorkerReplacedEvent,
  type WorkerReplaceFailedEvent,
  type WorkerResourceUsage,
  type WorkerState,
  type WorkerStats,
} from './types';
