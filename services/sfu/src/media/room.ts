/**
 * A meeting's media: its routers (at most one per worker), peers, transports, producers and
 * consumers, and the active speaker. Created by `WorkerPool.getOrCreateRoom()`.
 *
 * Placement (see `placement.ts`): a peer is placed on one router when it joins and all its
 * transports live there. While the room's current worker is under the consumer budget, new
 * peers go to its router; past it, the room takes the least loaded other worker (creating a
 * router of the room there if needed) and that becomes the current worker.
 *
 * Pipes: a producer lives on its peer's router. The first time a peer on another router consumes
 * it, it is piped there with `router.pipeToRouter()` (default options: no SRTP, 127.0.0.1) and
 * the pipe is kept for every later consumer on that router: each producer is piped at most once
 * per destination router, lazily, so routers that nobody on them consumes from cost nothing.
 * mic producers are also piped eagerly into the router holding the room's ActiveSpeakerObserver,
 * so one observer hears the whole room. A pipe producer keeps the producer's id, so a producer
 * id means the same thing on every router. Pipes only ever join routers on different workers
 * (one router per worker and room), which also avoids mediasoup 3.12's same-worker pipe bug
 * (versatica/mediasoup#1602).
 *
 * Closing: mediasoup cascades closes (transport → its producers and consumers; producer → its
 * consumers on every router, through the pipes). Every producer and consumer that goes away
 * emits exactly one close event with a reason derived from what started the cascade.
 *
 * Audible microphones: a room with more unmuted microphones than `audibleSpeakers` forwards the
 * sound of only that many, the ones heard most recently (an AudioLevelObserver beside the
 * ActiveSpeakerObserver, fed the same way). The others' audio consumers are paused on the server,
 * which the listeners' clients do not see: nothing arrives for a silent microphone, so their
 * decoders idle. A microphone heard above the threshold takes the slot of the one silent for the
 * longest, once that one has been silent for `audibleHoldMs`, so a conversation between a few
 * people is not cut. Video is not affected. `audibleSpeakers` 0 forwards every microphone.
 *
 * Worker death: the worker's routers are gone with everything on them. The pool then calls
 * `handleWorkerDied()`, which removes the peers placed there (`peerLeft` with `worker-died`)
 * and moves the ActiveSpeakerObserver to a surviving router. Peers elsewhere keep everything
 * except consumers of the dead peers' producers (closed with `producer-closed`).
 */
import { EventEmitter } from 'node:events';
import { badRequest, conflict, notFound, preconditionFailed } from '@quorum/domain';
import type { types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import type { MediaWorker } from './media-worker';
import { choosePlacement, type Placement } from './placement';

/** The most WebRtcTransports one participant may hold open at once. */
export const MAX_WEBRTC_TRANSPORTS_PER_PEER = 4;
import {
  SOURCE_KIND,
  type AddPeerOptions,
  type AffectedRoom,
  type ConsumeOptions,
  type ConsumerCloseReason,
  type ConsumerLayers,
  type ConsumerParams,
  type DtlsParameters,
  type IceParameters,
  type MediaSource,
  type PeerJoined,
  type PeerLeftReason,
  type PeerState,
  type PlainTransportOptions,
  type PlainTransportParams,
  type PlainTransportRemote,
  type ProduceOptions,
  type ProducerCloseReason,
  type ProducerInfo,
  type RoomEvents,
  type RoomState,
  type RtpCapabilities,
  type TransportDirection,
  type WebRtcTransportParams,
} from './types';

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

/** @internal What a room needs from its pool. */
export interface RoomHost {
  readonly logger: Logger;
  readonly settings: RoomSettings;
  liveWorkers(): readonly MediaWorker[];
  roomClosed(room: Room): void;
}

interface RouterRecord {
  router: ms.Router;
  worker: MediaWorker;
  peerIds: Set<string>;
}

interface PeerRecord {
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
type TransportRecord =
  | (TransportBase & { type: 'webrtc'; transport: ms.WebRtcTransport })
  | (TransportBase & { type: 'plain'; transport: ms.PlainTransport });

type CreatedTransport =
  | { type: 'webrtc'; transport: ms.WebRtcTransport; direction: TransportDirection }
  | { type: 'plain'; transport: ms.PlainTransport; direction: TransportDirection };

interface ProducerRecord {
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

interface ConsumerRecord {
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

interface Speaker {
  router: RouterRecord;
  observer: Promise<ms.ActiveSpeakerObserver>;
  /** Loudness of every microphone, for the audible ones; none when every microphone is forwarded. */
  levels: Promise<ms.AudioLevelObserver> | undefined;
  /** Producers added (or being added) to this observer. */
  observed: Set<string>;
}

/** Microphones an AudioLevelObserver reports per interval: every one in any real meeting. */
const AUDIO_LEVEL_MAX_ENTRIES = 256;

const LEAVE_REASON: Readonly<Record<PeerLeftReason, ProducerCloseReason>> = {
  left: 'peer-left',
  'worker-died': 'worker-died',
  'room-closed': 'room-closed',
};

export class Room extends EventEmitter<RoomEvents> {
  private readonly log: Logger;
  private readonly routers = new Map<string, RouterRecord>();
  private readonly routerCreations = new Map<MediaWorker, Promise<RouterRecord>>();
  private readonly peers = new Map<string, PeerRecord>();
  private readonly joining = new Set<string>();
  private readonly producers = new Map<string, ProducerRecord>();
  /** `<producerId>-><routerId>` → the pipe (or its creation in flight). */
  private readonly pipes = new Map<string, Promise<void>>();
  private currentWorker: MediaWorker | undefined;
  private speaker: Speaker | undefined;
  /** Microphones last heard (producer id → ms), at most `audibleSpeakers`; see the module header. */
  private readonly audible = new Map<string, number>();
  private capabilities: RtpCapabilities | undefined;
  private isClosed = false;

  private constructor(
    private readonly host: RoomHost,
    /** The meeting id. */
    readonly id: string,
  ) {
    super();
    this.log = host.logger.child({ roomId: id });
  }

  /** @internal Use `WorkerPool.getOrCreateRoom()`. Creates the room's first router. */
  static async create(host: RoomHost, roomId: string): Promise<Room> {
    const room = new Room(host, roomId);
    const { worker } = room.place();
    const first = await room.routerOn(worker);
    room.currentWorker = worker;
    room.capabilities = first.router.rtpCapabilities;
    return room;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The routers' RTP capabilities (identical on every router of the room). */
  get rtpCapabilities(): RtpCapabilities {
    if (!this.capabilities) throw new Error(`room ${this.id} has no capabilities yet`);
    return this.capabilities;
  }

  get peerIds(): string[] {
    return [...this.peers.keys()];
  }

  hasPeer(peerId: string): boolean {
    return this.peers.has(peerId);
  }

  // -------------------------------------------------------------------------------------------
  // Peers

  /**
   * Places a new peer on a router of the room (see the module header). Fails with `CONFLICT`
   * (`sfu.peer_exists`) if the id is taken, `PRECONDITION_FAILED` (`sfu.no_worker`) if no
   * worker is alive.
   */
  async addPeer(peerId: string, options: AddPeerOptions = {}): Promise<PeerJoined> {
    this.assertOpen();
    if (this.peers.has(peerId) || this.joining.has(peerId)) {
      throw conflict('sfu.peer_exists', `peer ${peerId} is already in room ${this.id}`, { roomId: this.id, peerId });
    }
    this.joining.add(peerId);
    try {
      const { worker, placement } = this.place();
      const router = await this.routerOn(worker);
      this.assertOpen();
      if (router.router.closed) {
        throw preconditionFailed('sfu.worker_died', `the worker chosen for peer ${peerId} died; join again`, {
          roomId: this.id,
          peerId,
        });
      }
      this.currentWorker = worker;
      const peer: PeerRecord = {
        id: peerId,
        router,
        rtpCapabilities: options.rtpCapabilities,
        transports: new Map(),
        producers: new Map(),
        consumers: new Map(),
        pendingSources: new Set(),
        leaving: undefined,
      };
      this.peers.set(peerId, peer);
      router.peerIds.add(peerId);
      this.log.info(
        {
          peerId,
          workerIndex: worker.index,
          routerId: router.router.id,
          placement: placement.reason,
          workerConsumers: worker.consumers,
        },
        'peer placed',
      );
      return {
        roomId: this.id,
        peerId,
        workerIndex: worker.index,
        routerId: router.router.id,
        rtpCapabilities: router.router.rtpCapabilities,
      };
    } finally {
      this.joining.delete(peerId);
    }
  }

  /** Stores the client's device capabilities, used by `consume()` when it is given none. */
  setPeerRtpCapabilities(peerId: string, rtpCapabilities: RtpCapabilities): void {
    this.requirePeer(peerId).rtpCapabilities = rtpCapabilities;
  }

  /**
   * Closes the peer's transports (so its producers and consumers, and every consumer of its
   * producers), then emits `peerLeft` with `left`. Returns false if the peer is not in the room
   * (already left, or removed because its worker died). Idempotent.
   */
  removePeer(peerId: string): boolean {
    const peer = this.peers.get(peerId);
    if (!peer) return false;
    this.dropPeer(peer, 'left');
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Transports

  /** A WebRtcTransport on the peer's worker's WebRtcServer (UDP preferred, TCP too). */
  async createWebRtcTransport(
    peerId: string,
    options: { direction: TransportDirection },
  ): Promise<WebRtcTransportParams> {
    const peer = this.requirePeer(peerId);
    // A browser needs one send and one recv transport (and may replace each once); each holds
    // worker memory and ports, so one participant may not open more.
    const webRtc = [...peer.transports.values()].filter((t) => t.type === 'webrtc').length;
    if (webRtc >= MAX_WEBRTC_TRANSPORTS_PER_PEER) {
      throw preconditionFailed(
        'sfu.too_many_transports',
        `peer ${peerId} has ${webRtc} open transports, the most one participant may hold; close one first`,
        {
          peerId,
          limit: MAX_WEBRTC_TRANSPORTS_PER_PEER,
        },
      );
    }
    const { router, worker } = peer.router;
    const transport = await router.createWebRtcTransport({
      webRtcServer: worker.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: this.host.settings.initialAvailableOutgoingBitrate,
      appData: { peerId, direction: options.direction },
    });
    const record = this.adoptTransport(peer, { type: 'webrtc', transport, direction: options.direction });
    const { maxIncomingBitrate } = this.host.settings;
    if (maxIncomingBitrate !== undefined && options.direction === 'send') {
      await transport.setMaxIncomingBitrate(maxIncomingBitrate);
    }
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed')
        this.log.warn({ peerId, transportId: record.id, state }, 'WebRtcTransport DTLS state');
    });
    transport.on('icestatechange', (state) =>
      this.log.debug({ peerId, transportId: record.id, state }, 'WebRtcTransport ICE state'),
    );
    return {
      transportId: transport.id,
      direction: options.direction,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  /** The client's DTLS parameters (its `transport.on('connect')`). */
  async connectWebRtcTransport(peerId: string, transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    const record = this.requireTransport(peerId, transportId);
    if (record.type !== 'webrtc')
      throw badRequest('sfu.wrong_transport_type', `transport ${transportId} is not a WebRtcTransport`);
    await record.transport.connect({ dtlsParameters });
  }

  /** New ICE parameters for the client's `transport.restartIce()`. */
  async restartIce(peerId: string, transportId: string): Promise<IceParameters> {
    const record = this.requireTransport(peerId, transportId);
    if (record.type !== 'webrtc')
      throw badRequest('sfu.wrong_transport_type', `transport ${transportId} is not a WebRtcTransport`);
    return record.transport.restartIce();
  }

  /** A PlainTransport (plain RTP over UDP) for the peer: tests, benchmarks, recorders, gateways. */
  async createPlainTransport(peerId: string, options: PlainTransportOptions): Promise<PlainTransportParams> {
    const peer = this.requirePeer(peerId);
    const { listenIp, announcedIp } = this.host.settings;
    const transport = await peer.router.router.createPlainTransport({
      listenIp: announcedIp ? { ip: listenIp, announcedIp } : listenIp,
      rtcpMux: options.rtcpMux ?? true,
      comedia: options.comedia ?? false,
      appData: { peerId, direction: options.direction },
    });
    this.adoptTransport(peer, { type: 'plain', transport, direction: options.direction });
    return {
      transportId: transport.id,
      direction: options.direction,
      ip: transport.tuple.localIp,
      port: transport.tuple.localPort,
      ...(transport.rtcpTuple ? { rtcpPort: transport.rtcpTuple.localPort } : {}),
    };
  }

  /** Where the SFU sends a PlainTransport's RTP (not needed with `comedia`). */
  async connectPlainTransport(peerId: string, transportId: string, remote: PlainTransportRemote): Promise<void> {
    const record = this.requireTransport(peerId, transportId);
    if (record.type !== 'plain')
      throw badRequest('sfu.wrong_transport_type', `transport ${transportId} is not a PlainTransport`);
    await record.transport.connect(remote);
  }

  /** Closes the transport with its producers and consumers (reason `transport-closed`). */
  closeTransport(peerId: string, transportId: string): void {
    const record = this.requireTransport(peerId, transportId);
    record.closing ??= 'transport-closed';
    record.transport.close();
  }

  // -------------------------------------------------------------------------------------------
  // Producers

  /** Emits `newProducer`; other peers then `consume()` it. */
  async produce(peerId: string, options: ProduceOptions): Promise<ProducerInfo> {
    const peer = this.requirePeer(peerId);
    const transport = this.requireTransport(peerId, options.transportId);
    if (transport.direction !== 'send') {
      throw badRequest(
        'sfu.wrong_direction',
        `transport ${transport.id} is a recv transport; produce on a send transport`,
      );
    }
    if (SOURCE_KIND[options.source] !== options.kind) {
      throw badRequest(
        'sfu.source_kind_mismatch',
        `source ${options.source} must be ${SOURCE_KIND[options.source]}, not ${options.kind}`,
      );
    }
    const taken = [...peer.producers.values()].some((p) => p.source === options.source);
    if (taken || peer.pendingSources.has(options.source)) {
      throw conflict('sfu.source_in_use', `peer ${peerId} already has a ${options.source} producer`, {
        peerId,
        source: options.source,
      });
    }
    peer.pendingSources.add(options.source);
    let producer: ms.Producer;
    try {
      producer = await transport.transport.produce({
        kind: options.kind,
        rtpParameters: options.rtpParameters,
        paused: options.paused ?? false,
        appData: { peerId, source: options.source },
      });
    } finally {
      peer.pendingSources.delete(options.source);
    }
    if (producer.closed) {
      // Its transport closed while produce() was in flight.
      throw notFound('sfu.transport_not_found', `transport ${transport.id} closed while producing`, {
        transportId: transport.id,
      });
    }
    const record: ProducerRecord = {
      producer,
      peer,
      transport,
      router: transport.router,
      source: options.source,
      closing: undefined,
      wantedSpatial: undefined,
      lowering: undefined,
    };
    this.producers.set(producer.id, record);
    peer.producers.set(producer.id, record);
    producer.on('transportclose', () => {
      record.closing ??= this.transportCloseReason(transport);
    });
    producer.observer.once('close', () => this.producerGone(record));
    const paused = (isPaused: boolean) => () => {
      this.notify('producerPaused', { roomId: this.id, peerId, producerId: producer.id, paused: isPaused });
      // An unmuted microphone more or fewer may start or stop the gating.
      if (producer.kind === 'audio') this.regateAudio();
    };
    producer.observer.on('pause', paused(true));
    producer.observer.on('resume', paused(false));
    const info = producerInfo(record);
    this.notify('newProducer', { roomId: this.id, producer: info });
    if (producer.kind === 'audio') {
      void this.observeSpeaker(record);
      this.regateAudio();
    }
    return info;
  }

  /** Every open producer of the room (e.g. for a peer that just joined). */
  listProducers(): ProducerInfo[] {
    return [...this.producers.values()].map(producerInfo);
  }

  async pauseProducer(peerId: string, producerId: string): Promise<void> {
    await this.requireOwnProducer(peerId, producerId).producer.pause();
  }

  async resumeProducer(peerId: string, producerId: string): Promise<void> {
    await this.requireOwnProducer(peerId, producerId).producer.resume();
  }

  /** Closes the producer (reason `closed`) and, through the pipes, every consumer of it. */
  closeProducer(peerId: string, producerId: string): void {
    const record = this.requireOwnProducer(peerId, producerId);
    record.closing ??= 'closed';
    record.producer.close();
  }

  async getProducerStats(peerId: string, producerId: string): Promise<ms.ProducerStat[]> {
    return this.requireOwnProducer(peerId, producerId).producer.getStats();
  }

  // -------------------------------------------------------------------------------------------
  // Consumers

  /**
   * Creates a consumer of `producerId` on one of the peer's `recv` transports, piping the
   * producer into the peer's router first if it lives elsewhere. The consumer starts paused
   * (as in mediasoup-demo): the client resumes it with `resumeConsumer()` once its side exists.
   * Fails with `PRECONDITION_FAILED` (`sfu.cannot_consume`) if the capabilities do not fit.
   */
  async consume(peerId: string, options: ConsumeOptions): Promise<ConsumerParams> {
    const peer = this.requirePeer(peerId);
    const rtpCapabilities = options.rtpCapabilities ?? peer.rtpCapabilities;
    if (!rtpCapabilities) {
      throw badRequest('sfu.no_rtp_capabilities', `peer ${peerId} has given no RTP capabilities`, { peerId });
    }
    const transport =
      options.transportId === undefined
        ? this.lastRecvTransport(peer)
        : this.requireTransport(peerId, options.transportId);
    if (transport.direction !== 'recv') {
      throw badRequest(
        'sfu.wrong_direction',
        `transport ${transport.id} is a send transport; consume on a recv transport`,
      );
    }
    const producer = this.requireProducer(options.producerId);
    await this.pipeTo(producer, peer.router);
    if (peer.leaving) throw notFound('sfu.peer_not_found', `peer ${peerId} left the room`, { peerId });
    const { producerId } = options;
    if (!peer.router.router.canConsume({ producerId, rtpCapabilities })) {
      throw preconditionFailed(
        'sfu.cannot_consume',
        `peer ${peerId} cannot consume producer ${producerId} with its RTP capabilities`,
        {
          peerId,
          producerId,
        },
      );
    }
    const consumer = await transport.transport.consume({
      producerId,
      rtpCapabilities,
      paused: true,
      ...(options.preferredLayers && producer.producer.type !== 'simple'
        ? { preferredLayers: options.preferredLayers }
        : {}),
      appData: { peerId, producerPeerId: producer.peer.id, source: producer.source },
    });
    if (consumer.closed) {
      throw notFound('sfu.producer_not_found', `producer ${producerId} closed while consuming it`, { producerId });
    }
    const record: ConsumerRecord = {
      consumer,
      peer,
      transport,
      producerId,
      producerPeerId: producer.peer.id,
      source: producer.source,
      closing: undefined,
      clientPaused: true,
      spatialWanted: options.preferredLayers?.spatialLayer ?? topSpatialLayer(producer.producer),
      gated: this.isGated(producerId),
      pausing: Promise.resolve(),
    };
    peer.consumers.set(consumer.id, record);
    const event = { roomId: this.id, peerId, consumerId: consumer.id, producerId };
    consumer.on('transportclose', () => {
      record.closing ??= this.transportCloseReason(transport);
    });
    consumer.on('producerclose', () => {
      record.closing ??= 'producer-closed';
    });
    consumer.observer.once('close', () => this.consumerGone(record));
    consumer.on('producerpause', () => this.notify('consumerProducerPaused', { ...event, producerPaused: true }));
    consumer.on('producerresume', () => this.notify('consumerProducerPaused', { ...event, producerPaused: false }));
    consumer.on('layerschange', (layers) =>
      this.notify('consumerLayersChanged', {
        roomId: this.id,
        peerId,
        consumerId: consumer.id,
        layers: layers ?? null,
      }),
    );
    return {
      consumerId: consumer.id,
      producerId,
      producerPeerId: producer.peer.id,
      kind: consumer.kind,
      source: producer.source,
      rtpParameters: consumer.rtpParameters,
      type: consumer.type,
      producerPaused: consumer.producerPaused,
    };
  }

  async pauseConsumer(peerId: string, consumerId: string): Promise<void> {
    const record = this.requireConsumer(peerId, consumerId);
    record.clientPaused = true;
    await this.applyPause(record);
    this.reviewWantedLayers(record.producerId);
  }

  /** Resumes the consumer for the client; a microphone that is not audible now stays paused on the server until it is. */
  async resumeConsumer(peerId: string, consumerId: string): Promise<void> {
    const record = this.requireConsumer(peerId, consumerId);
    record.clientPaused = false;
    await this.applyPause(record);
    this.reviewWantedLayers(record.producerId);
  }

  /** Whether the consumer forwards now (resumed by the client, not gated, producer not paused). */
  isConsumerForwarding(peerId: string, consumerId: string): boolean {
    const { consumer } = this.requireConsumer(peerId, consumerId);
    return !consumer.paused && !consumer.producerPaused;
  }

  /** The microphones forwarded now while the room gates them; `null` when it forwards every one. */
  audibleProducerIds(): string[] | null {
    return this.gating() ? [...this.audible.keys()] : null;
  }

  /** Closes the consumer (reason `closed`). */
  closeConsumer(peerId: string, consumerId: string): void {
    const record = this.requireConsumer(peerId, consumerId);
    record.closing ??= 'closed';
    record.consumer.close();
  }

  /** Simulcast consumers only (`BAD_REQUEST` `sfu.not_simulcast` otherwise); `consumerLayersChanged` follows. */
  async setConsumerPreferredLayers(peerId: string, consumerId: string, layers: ConsumerLayers): Promise<void> {
    const record = this.requireConsumer(peerId, consumerId);
    const { consumer } = record;
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc') {
      throw badRequest(
        'sfu.not_simulcast',
        `consumer ${consumerId} is ${consumer.type}; preferred layers need simulcast`,
      );
    }
    await consumer.setPreferredLayers(layers);
    record.spatialWanted = layers.spatialLayer;
    this.reviewWantedLayers(record.producerId);
  }

  /**
   * Tells the owner of a simulcast video producer the highest spatial layer its consumers want
   * (resumed ones; the lowest when none is), so it stops encoding the layers above: in a grid
   * of small tiles every receiver takes the lowest layer, and a camera encoding 720p for nobody
   * spends most of a sender's CPU. A rise is told at once; a fall after `layersLowerAfterMs`,
   * so a layout that shrinks and grows again does not make the sender restart a layer.
   */
  private reviewWantedLayers(producerId: string): void {
    const record = this.producers.get(producerId);
    if (!record || record.producer.kind !== 'video' || record.producer.type !== 'simulcast' || record.closing) return;
    const wanted = this.wantedSpatialLayer(producerId);
    if (wanted === record.wantedSpatial) {
      if (record.lowering) clearTimeout(record.lowering);
      record.lowering = undefined;
      return;
    }
    const tell = () => {
      record.wantedSpatial = this.wantedSpatialLayer(producerId);
      this.notify('producerLayersWanted', {
        roomId: this.id,
        peerId: record.peer.id,
        producerId,
        spatialLayer: record.wantedSpatial,
      });
    };
    if (record.wantedSpatial !== undefined && wanted > record.wantedSpatial) {
      if (record.lowering) clearTimeout(record.lowering);
      record.lowering = undefined;
      tell();
      return;
    }
    record.lowering ??= setTimeout(() => {
      record.lowering = undefined;
      if (this.producers.get(producerId) !== record || record.closing) return;
      if (this.wantedSpatialLayer(producerId) !== record.wantedSpatial) tell();
    }, this.host.settings.layersLowerAfterMs);
  }

  private wantedSpatialLayer(producerId: string): number {
    let wanted = 0;
    for (const peer of this.peers.values()) {
      for (const c of peer.consumers.values()) {
        if (c.producerId === producerId && !c.clientPaused && !c.closing) wanted = Math.max(wanted, c.spatialWanted);
      }
    }
    return wanted;
  }

  async requestConsumerKeyFrame(peerId: string, consumerId: string): Promise<void> {
    await this.requireConsumer(peerId, consumerId).consumer.requestKeyFrame();
  }

  async getConsumerStats(peerId: string, consumerId: string): Promise<Array<ms.ConsumerStat | ms.ProducerStat>> {
    return this.requireConsumer(peerId, consumerId).consumer.getStats();
  }

  /** The consumer's current layers (simulcast), `undefined` when it forwards none. */
  getConsumerLayers(peerId: string, consumerId: string): ConsumerLayers | undefined {
    return this.requireConsumer(peerId, consumerId).consumer.currentLayers;
  }

  // -------------------------------------------------------------------------------------------
  // State

  getPeerState(peerId: string): PeerState {
    return peerState(this.requirePeer(peerId));
  }

  getState(): RoomState {
    return {
      roomId: this.id,
      currentWorkerIndex: this.currentWorker?.alive ? this.currentWorker.index : undefined,
      routers: [...this.routers.values()].map((r) => ({
        routerId: r.router.id,
        workerIndex: r.worker.index,
        pid: r.worker.pid,
        peerIds: [...r.peerIds],
        activeSpeaker: this.speaker?.router === r,
      })),
      peers: [...this.peers.values()].map(peerState),
      producers: this.listProducers(),
      pipes: [...this.pipes.keys()],
      audibleProducerIds: this.audibleProducerIds(),
    };
  }

  /** Removes every peer (`room-closed`), closes the routers and emits `closed`. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const peer of [...this.peers.values()]) this.dropPeer(peer, 'room-closed');
    for (const record of this.routers.values()) record.router.close();
    this.routers.clear();
    this.speaker = undefined;
    this.log.info('room closed');
    this.notify('closed', { roomId: this.id });
    this.host.roomClosed(this);
  }

  /**
   * @internal Called by the pool once `worker` died (its routers, and everything on them, are
   * already closed). Removes the peers placed there and returns them, or `undefined` if the
   * room had nothing on that worker.
   */
  handleWorkerDied(worker: MediaWorker): AffectedRoom | undefined {
    const lost = [...this.routers.values()].filter((r) => r.worker === worker);
    const peers = [...this.peers.values()].filter((p) => p.router.worker === worker);
    if (lost.length === 0 && peers.length === 0) return undefined;
    for (const record of lost) this.routers.delete(record.router.id);
    for (const peer of peers) this.dropPeer(peer, 'worker-died');
    if (this.speaker && this.speaker.router.worker === worker) {
      this.speaker = undefined;
      const survivor = this.routers.values().next().value;
      if (survivor) this.startSpeaker(survivor);
    }
    this.log.warn(
      { workerIndex: worker.index, pid: worker.pid, peerIds: peers.map((p) => p.id) },
      'worker died under the room',
    );
    return { roomId: this.id, peerIds: peers.map((p) => p.id) };
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  private place(): { worker: MediaWorker; placement: Placement } {
    const live = this.host.liveWorkers();
    const placement = choosePlacement({
      workers: live.map((w) => ({ index: w.index, consumers: w.consumers })),
      roomWorkerIndexes: new Set([...this.routers.values()].map((r) => r.worker.index)),
      currentWorkerIndex: this.currentWorker?.alive ? this.currentWorker.index : undefined,
      consumerBudget: this.host.settings.consumerBudgetPerWorker,
    });
    const worker = placement && live.find((w) => w.index === placement.workerIndex);
    if (!placement || !worker)
      throw preconditionFailed('sfu.no_worker', 'no mediasoup worker is alive', { roomId: this.id });
    return { worker, placement };
  }

  /** The room's router on `worker`, created on first use (concurrent callers share one creation). */
  private async routerOn(worker: MediaWorker): Promise<RouterRecord> {
    for (const record of this.routers.values()) if (record.worker === worker) return record;
    let pending = this.routerCreations.get(worker);
    if (!pending) {
      pending = this.createRouter(worker).finally(() => this.routerCreations.delete(worker));
      this.routerCreations.set(worker, pending);
    }
    return pending;
  }

  private async createRouter(worker: MediaWorker): Promise<RouterRecord> {
    const router = await worker.createRouter({ roomId: this.id });
    if (this.isClosed) {
      router.close();
      throw preconditionFailed('sfu.room_closed', `room ${this.id} is closed`, { roomId: this.id });
    }
    const record: RouterRecord = { router, worker, peerIds: new Set() };
    this.routers.set(router.id, record);
    // On worker death the record stays until handleWorkerDied() collects it.
    router.observer.once('close', () => {
      if (!worker.worker.died) this.routers.delete(router.id);
    });
    if (!this.speaker) this.startSpeaker(record);
    this.log.info({ routerId: router.id, workerIndex: worker.index }, 'router created');
    return record;
  }

  /** The room's ActiveSpeakerObserver on `router`, fed with every mic producer of the room. */
  private startSpeaker(router: RouterRecord): void {
    const { settings } = this.host;
    const observer = router.router.createActiveSpeakerObserver({ interval: settings.activeSpeakerIntervalMs });
    const levels =
      settings.audibleSpeakers > 0
        ? // Every microphone above the threshold is reported (not only the loudest few), so a speaker
          // holding a slot keeps it while a louder one talks over them.
          router.router.createAudioLevelObserver({
            maxEntries: AUDIO_LEVEL_MAX_ENTRIES,
            threshold: settings.audioLevelThresholdDbov,
            interval: settings.audioLevelIntervalMs,
          })
        : undefined;
    const speaker: Speaker = { router, observer, levels, observed: new Set() };
    this.speaker = speaker;
    levels?.then(
      (created) => created.on('volumes', (volumes) => this.heard(volumes.map((v) => v.producer.id))),
      (err: Error) => {
        if (this.isClosed || router.router.closed) return;
        // Without levels nobody becomes audible in a gated room: forward every microphone instead.
        this.log.error(
          { err, routerId: router.router.id },
          'could not create the AudioLevelObserver; forwarding every microphone',
        );
        if (this.speaker === speaker) speaker.levels = undefined;
        this.regateAudio();
      },
    );
    for (const record of this.producers.values())
      if (record.producer.kind === 'audio') void this.observeSpeaker(record);
    observer.then(
      (created) => {
        created.on('dominantspeaker', ({ producer }) => {
          const record = this.producers.get(producer.id);
          if (record)
            this.notify('activeSpeakerChanged', { roomId: this.id, peerId: record.peer.id, producerId: producer.id });
        });
      },
      (err: Error) => {
        if (this.speaker === speaker) this.speaker = undefined;
        if (this.isClosed || router.router.closed) {
          this.log.debug(
            { err, routerId: router.router.id },
            'ActiveSpeakerObserver not created: its router closed meanwhile',
          );
        } else {
          this.log.error(
            { err, routerId: router.router.id },
            'could not create the ActiveSpeakerObserver; the room has no active speaker detection',
          );
        }
      },
    );
  }

  /** Never rejects: speaker detection is best effort and must not fail a produce(). */
  private async observeSpeaker(record: ProducerRecord): Promise<void> {
    const speaker = this.speaker;
    if (!speaker || speaker.observed.has(record.producer.id)) return;
    speaker.observed.add(record.producer.id);
    try {
      const observer = await speaker.observer;
      await this.pipeTo(record, speaker.router);
      if (observer.closed || record.producer.closed || this.speaker !== speaker) return;
      await observer.addProducer({ producerId: record.producer.id });
      const levels = await speaker.levels;
      if (levels && !levels.closed && !record.producer.closed)
        await levels.addProducer({ producerId: record.producer.id });
    } catch (err) {
      // Typically the producer or the router closed meanwhile; the producer still forwards.
      this.log.warn({ err, producerId: record.producer.id }, 'mic producer not added to the ActiveSpeakerObserver');
    }
  }

  /** Pipes the producer into `target` once (see the module header); a no-op on its own router. */
  private async pipeTo(record: ProducerRecord, target: RouterRecord): Promise<void> {
    if (record.router === target) return;
    const key = `${record.producer.id}->${target.router.id}`;
    let pipe = this.pipes.get(key);
    if (!pipe) {
      pipe = this.createPipe(record, target, key);
      this.pipes.set(key, pipe);
    }
    try {
      await pipe;
    } catch (err) {
      if (record.producer.closed)
        throw notFound('sfu.producer_not_found', `producer ${record.producer.id} is closed`, { cause: err });
      throw err;
    }
  }

  private async createPipe(record: ProducerRecord, target: RouterRecord, key: string): Promise<void> {
    try {
      const { pipeProducer } = await record.router.router.pipeToRouter({
        producerId: record.producer.id,
        router: target.router,
        listenIp: this.host.settings.listenIp,
      });
      if (!pipeProducer) throw new Error(`pipeToRouter gave no pipe producer for ${key}`);
      if (pipeProducer.closed) this.pipes.delete(key);
      else pipeProducer.observer.once('close', () => this.pipes.delete(key));
      this.log.debug(
        { producerId: record.producer.id, from: record.router.router.id, to: target.router.id },
        'producer piped',
      );
    } catch (err) {
      this.pipes.delete(key);
      throw err;
    }
  }

  private adoptTransport(peer: PeerRecord, created: CreatedTransport): TransportRecord {
    const base = { id: created.transport.id, peer, router: peer.router, closing: undefined };
    const record: TransportRecord = created.type === 'webrtc' ? { ...base, ...created } : { ...base, ...created };
    if (peer.leaving || this.peers.get(peer.id) !== peer) {
      // The peer left while the transport was being created.
      created.transport.close();
      throw notFound('sfu.peer_not_found', `peer ${peer.id} left the room`, { peerId: peer.id });
    }
    peer.transports.set(record.id, record);
    const transport: ms.Transport = created.transport;
    transport.observer.once('close', () => peer.transports.delete(record.id));
    return record;
  }

  private dropPeer(peer: PeerRecord, reason: PeerLeftReason): void {
    peer.leaving = reason;
    for (const transport of [...peer.transports.values()]) {
      transport.closing ??= LEAVE_REASON[reason];
      transport.transport.close();
    }
    this.peers.delete(peer.id);
    peer.router.peerIds.delete(peer.id);
    this.log.info({ peerId: peer.id, reason }, 'peer left');
    this.notify('peerLeft', { roomId: this.id, peerId: peer.id, reason });
  }

  private transportCloseReason(transport: TransportRecord): ProducerCloseReason {
    if (transport.closing) return transport.closing;
    if (transport.router.worker.worker.died) return 'worker-died';
    if (transport.peer.leaving) return LEAVE_REASON[transport.peer.leaving];
    return this.isClosed ? 'room-closed' : 'transport-closed';
  }

  /** Whether the room gates microphones now: more unmuted ones than `audibleSpeakers`, and levels to choose by. */
  private gating(): boolean {
    const { audibleSpeakers } = this.host.settings;
    if (audibleSpeakers === 0 || !this.speaker?.levels) return false;
    let unmuted = 0;
    for (const p of this.producers.values()) if (p.producer.kind === 'audio' && !p.producer.paused) unmuted++;
    return unmuted > audibleSpeakers;
  }

  private isGated(producerId: string, gating = this.gating()): boolean {
    const record = this.producers.get(producerId);
    return record?.producer.kind === 'audio' && gating && !this.audible.has(producerId);
  }

  /** The AudioLevelObserver heard these microphones (loudest first). */
  private heard(producerIds: string[]): void {
    const now = Date.now();
    const { audibleSpeakers, audibleHoldMs } = this.host.settings;
    // Those holding a slot first, so a newcomer never takes the slot of someone heard right now.
    const newcomers: string[] = [];
    for (const id of producerIds) {
      if (this.audible.has(id)) this.audible.set(id, now);
      else if (this.producers.has(id)) newcomers.push(id);
    }
    let changed = false;
    for (const id of newcomers) {
      if (this.audible.size >= audibleSpeakers) {
        let quietest: [string, number] | undefined;
        for (const entry of this.audible) if (!quietest || entry[1] < quietest[1]) quietest = entry;
        // Every slot holds someone heard within the hold: this one waits for a slot.
        if (!quietest || now - quietest[1] < audibleHoldMs) continue;
        this.audible.delete(quietest[0]);
      }
      this.audible.set(id, now);
      changed = true;
    }
    if (changed) this.regateAudio();
  }

  /** Pauses or resumes audio consumers on the server as the audible microphones say. */
  private regateAudio(): void {
    const gating = this.gating();
    for (const peer of this.peers.values()) {
      for (const record of peer.consumers.values()) {
        if (record.consumer.kind !== 'audio') continue;
        const gated = this.isGated(record.producerId, gating);
        if (gated === record.gated) continue;
        record.gated = gated;
        this.applyPause(record).catch((err: unknown) => {
          if (!record.consumer.closed)
            this.log.warn({ err, consumerId: record.consumer.id }, 'could not gate an audio consumer');
        });
      }
    }
  }

  /** Brings the consumer's paused state on the worker in line with the client's and the gate's, in call order. */
  private applyPause(record: ConsumerRecord): Promise<void> {
    const run = record.pausing.then(async () => {
      const { consumer } = record;
      if (consumer.closed) return;
      const paused = record.clientPaused || record.gated;
      if (paused && !consumer.paused) await consumer.pause();
      else if (!paused && consumer.paused) await consumer.resume();
    });
    record.pausing = run.catch(() => undefined);
    return run;
  }

  private producerGone(record: ProducerRecord): void {
    const { id } = record.producer;
    if (this.producers.get(id) !== record) return;
    this.producers.delete(id);
    record.peer.producers.delete(id);
    if (record.lowering) clearTimeout(record.lowering);
    if (record.producer.kind === 'audio') {
      this.audible.delete(id);
      this.regateAudio();
    }
    const reason = record.closing ?? 'closed';
    this.log.debug({ peerId: record.peer.id, producerId: id, reason }, 'producer closed');
    this.notify('producerClosed', { roomId: this.id, peerId: record.peer.id, producerId: id, reason });
  }

  private consumerGone(record: ConsumerRecord): void {
    const { id } = record.consumer;
    if (record.peer.consumers.get(id) !== record) return;
    record.peer.consumers.delete(id);
    this.reviewWantedLayers(record.producerId);
    const reason = record.closing ?? 'closed';
    this.notify('consumerClosed', {
      roomId: this.id,
      peerId: record.peer.id,
      consumerId: id,
      producerId: record.producerId,
      reason,
    });
  }

  /** Emits to the room's listeners; a listener that throws is logged, never thrown into mediasoup. */
  private notify<K extends keyof RoomEvents>(event: K, ...args: RoomEvents[K]): void {
    try {
      // Typed by the signature above; EventEmitter's own generics cannot follow a generic K.
      (this as EventEmitter).emit(event, ...args);
    } catch (err) {
      this.log.error({ err, event }, 'room event listener threw');
    }
  }

  private assertOpen(): void {
    if (this.isClosed) throw preconditionFailed('sfu.room_closed', `room ${this.id} is closed`, { roomId: this.id });
  }

  private requirePeer(peerId: string): PeerRecord {
    const peer = this.peers.get(peerId);
    if (!peer)
      throw notFound('sfu.peer_not_found', `peer ${peerId} is not in room ${this.id}`, { roomId: this.id, peerId });
    return peer;
  }

  private requireTransport(peerId: string, transportId: string): TransportRecord {
    const transport = this.requirePeer(peerId).transports.get(transportId);
    if (!transport)
      throw notFound('sfu.transport_not_found', `peer ${peerId} has no transport ${transportId}`, {
        peerId,
        transportId,
      });
    return transport;
  }

  private lastRecvTransport(peer: PeerRecord): TransportRecord {
    const recv = [...peer.transports.values()].filter((t) => t.direction === 'recv');
    const last = recv[recv.length - 1];
    if (!last)
      throw preconditionFailed('sfu.no_recv_transport', `peer ${peer.id} has no recv transport`, { peerId: peer.id });
    return last;
  }

  private requireProducer(producerId: string): ProducerRecord {
    const producer = this.producers.get(producerId);
    if (!producer)
      throw notFound('sfu.producer_not_found', `no producer ${producerId} in room ${this.id}`, { producerId });
    return producer;
  }

  private requireOwnProducer(peerId: string, producerId: string): ProducerRecord {
    const producer = this.requirePeer(peerId).producers.get(producerId);
    if (!producer)
      throw notFound('sfu.producer_not_found', `peer ${peerId} has no producer ${producerId}`, { peerId, producerId });
    return producer;
  }

  private requireConsumer(peerId: string, consumerId: string): ConsumerRecord {
    const consumer = this.requirePeer(peerId).consumers.get(consumerId);
    if (!consumer)
      throw notFound('sfu.consumer_not_found', `peer ${peerId} has no consumer ${consumerId}`, { peerId, consumerId });
    return consumer;
  }
}

/** The highest spatial layer of a simulcast producer (0 for any other). */
function topSpatialLayer(producer: ms.Producer): number {
  return producer.type === 'simulcast' ? Math.max(0, (producer.rtpParameters.encodings?.length ?? 1) - 1) : 0;
}

function producerInfo(record: ProducerRecord): ProducerInfo {
  const { producer } = record;
  return {
    producerId: producer.id,
    peerId: record.peer.id,
    kind: producer.kind,
    source: record.source,
    type: producer.type,
    paused: producer.paused,
  };
}

function peerState(peer: PeerRecord): PeerState {
  return {
    peerId: peer.id,
    workerIndex: peer.router.worker.index,
    routerId: peer.router.router.id,
    transports: [...peer.transports.values()].map((t) => ({
      transportId: t.id,
      type: t.type,
      direction: t.direction,
      producerIds: [...peer.producers.values()].filter((p) => p.transport === t).map((p) => p.producer.id),
      consumerIds: [...peer.consumers.values()].filter((c) => c.transport === t).map((c) => c.consumer.id),
    })),
    producerIds: [...peer.producers.keys()],
    consumerIds: [...peer.consumers.keys()],
  };
}
