/**
 * A meeting's media: its routers (at most one per worker), peers, transports, producers and
 * consumers, and the active speaker. Created by `WorkerPool.getOrCreateRoom()`.
 *
 * The `Room` is the face the rest of the SFU uses; the work is done by the modules in `room/`:
 * placement and pipes (`routers.ts`), peers, transports, producers, consumers, the active
 * speaker and audible microphones (`speakers.ts`), and the layers simulcast senders are asked
 * for (`wanted-layers.ts`). They share one `RoomContext`.
 *
 * Closing: mediasoup cascades closes (transport → its producers and consumers; producer → its
 * consumers on every router, through the pipes). Every producer and consumer that goes away
 * emits exactly one close event with a reason derived from what started the cascade.
 *
 * Worker death: the worker's routers are gone with everything on them. The pool then calls
 * `handleWorkerDied()`, which removes the peers placed there (`peerLeft` with `worker-died`)
 * and moves the ActiveSpeakerObserver to a surviving router. Peers elsewhere keep everything
 * except consumers of the dead peers' producers (closed with `producer-closed`).
 */
import { EventEmitter } from 'node:events';
import type { types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import type { MediaWorker } from './media-worker';
import { RoomConsumers } from './room/consumers';
import { RoomContext } from './room/context';
import { peerState, RoomPeers } from './room/peers';
import { RoomProducers } from './room/producers';
import type { RoomSettings } from './room/records';
import { RoomRouters } from './room/routers';
import { RoomSpeakers } from './room/speakers';
import { RoomTransports } from './room/transports';
import type {
  AddPeerOptions,
  AffectedRoom,
  ConsumeOptions,
  ConsumerLayers,
  ConsumerParams,
  DtlsParameters,
  IceParameters,
  PeerJoined,
  PeerState,
  PlainTransportOptions,
  PlainTransportParams,
  PlainTransportRemote,
  ProduceOptions,
  ProducerInfo,
  RoomEvents,
  RoomState,
  RtpCapabilities,
  TransportDirection,
  WebRtcTransportParams,
} from './types';

export type { RoomSettings } from './room/records';
export { MAX_WEBRTC_TRANSPORTS_PER_PEER } from './room/transports';

/** @internal What a room needs from its pool. */
export interface RoomHost {
  readonly logger: Logger;
  readonly settings: RoomSettings;
  liveWorkers(): readonly MediaWorker[];
  roomClosed(room: Room): void;
}

export class Room extends EventEmitter<RoomEvents> {
  private readonly ctx: RoomContext;
  private readonly routers: RoomRouters;
  private readonly speakers: RoomSpeakers;
  private readonly peers: RoomPeers;
  private readonly transports: RoomTransports;
  private readonly producers: RoomProducers;
  private readonly consumers: RoomConsumers;
  private capabilities: RtpCapabilities | undefined;

  private constructor(
    private readonly host: RoomHost,
    /** The meeting id. */
    readonly id: string,
  ) {
    super();
    this.ctx = new RoomContext({
      id,
      log: host.logger.child({ roomId: id }),
      settings: host.settings,
      liveWorkers: () => host.liveWorkers(),
      emitter: this as EventEmitter,
    });
    this.routers = new RoomRouters(this.ctx, (router) => this.speakers.routerCreated(router));
    this.speakers = new RoomSpeakers(this.ctx, this.routers);
    this.peers = new RoomPeers(this.ctx, this.routers);
    this.transports = new RoomTransports(this.ctx);
    this.producers = new RoomProducers(this.ctx, this.speakers);
    this.consumers = new RoomConsumers(this.ctx, this.routers, this.speakers);
  }

  /** @internal Use `WorkerPool.getOrCreateRoom()`. Creates the room's first router. */
  static async create(host: RoomHost, roomId: string): Promise<Room> {
    const room = new Room(host, roomId);
    const { worker } = room.routers.place();
    const first = await room.routers.on(worker);
    room.routers.current = worker;
    room.capabilities = first.router.rtpCapabilities;
    return room;
  }

  get closed(): boolean {
    return this.ctx.closed;
  }

  /** The routers' RTP capabilities (identical on every router of the room). */
  get rtpCapabilities(): RtpCapabilities {
    if (!this.capabilities) throw new Error(`room ${this.id} has no capabilities yet`);
    return this.capabilities;
  }

  get peerIds(): string[] {
    return [...this.ctx.peers.keys()];
  }

  hasPeer(peerId: string): boolean {
    return this.ctx.peers.has(peerId);
  }

  /**
   * Places a new peer on a router of the room (see `room/routers.ts`). Fails with `CONFLICT`
   * (`sfu.peer_exists`) if the id is taken, `PRECONDITION_FAILED` (`sfu.no_worker`) if no
   * worker is alive.
   */
  addPeer(peerId: string, options: AddPeerOptions = {}): Promise<PeerJoined> {
    return this.peers.add(peerId, options);
  }

  /** Stores the client's device capabilities, used by `consume()` when it is given none. */
  setPeerRtpCapabilities(peerId: string, rtpCapabilities: RtpCapabilities): void {
    this.peers.setRtpCapabilities(peerId, rtpCapabilities);
  }

  /**
   * Closes the peer's transports (so its producers and consumers, and every consumer of its
   * producers), then emits `peerLeft` with `left`. Returns false if the peer is not in the room
   * (already left, or removed because its worker died). Idempotent.
   */
  removePeer(peerId: string): boolean {
    const peer = this.ctx.peers.get(peerId);
    if (!peer) return false;
    this.peers.drop(peer, 'left');
    return true;
  }

  /** A WebRtcTransport on the peer's worker's WebRtcServer (UDP preferred, TCP too). */
  createWebRtcTransport(peerId: string, options: { direction: TransportDirection }): Promise<WebRtcTransportParams> {
    return this.transports.createWebRtc(peerId, options);
  }

  /** The client's DTLS parameters (its `transport.on('connect')`). */
  connectWebRtcTransport(peerId: string, transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    return this.transports.connectWebRtc(peerId, transportId, dtlsParameters);
  }

  /** New ICE parameters for the client's `transport.restartIce()`. */
  restartIce(peerId: string, transportId: string): Promise<IceParameters> {
    return this.transports.restartIce(peerId, transportId);
  }

  /** A PlainTransport (plain RTP over UDP) for the peer: tests, benchmarks, recorders, gateways. */
  createPlainTransport(peerId: string, options: PlainTransportOptions): Promise<PlainTransportParams> {
    return this.transports.createPlain(peerId, options);
  }

  /** Where the SFU sends a PlainTransport's RTP (not needed with `comedia`). */
  connectPlainTransport(peerId: string, transportId: string, remote: PlainTransportRemote): Promise<void> {
    return this.transports.connectPlain(peerId, transportId, remote);
  }

  /** Closes the transport with its producers and consumers (reason `transport-closed`). */
  closeTransport(peerId: string, transportId: string): void {
    this.transports.close(peerId, transportId);
  }

  /** Emits `newProducer`; other peers then `consume()` it. */
  produce(peerId: string, options: ProduceOptions): Promise<ProducerInfo> {
    return this.producers.produce(peerId, options);
  }

  /** Every open producer of the room (e.g. for a peer that just joined). */
  listProducers(): ProducerInfo[] {
    return this.producers.list();
  }

  pauseProducer(peerId: string, producerId: string): Promise<void> {
    return this.producers.pause(peerId, producerId);
  }

  resumeProducer(peerId: string, producerId: string): Promise<void> {
    return this.producers.resume(peerId, producerId);
  }

  /** Closes the producer (reason `closed`) and, through the pipes, every consumer of it. */
  closeProducer(peerId: string, producerId: string): void {
    this.producers.close(peerId, producerId);
  }

  getProducerStats(peerId: string, producerId: string): Promise<ms.ProducerStat[]> {
    return this.producers.stats(peerId, producerId);
  }

  /**
   * Creates a consumer of `producerId` on one of the peer's `recv` transports, piping the
   * producer into the peer's router first if it lives elsewhere. The consumer starts paused
   * (as in mediasoup-demo): the client resumes it with `resumeConsumer()` once its side exists.
   * Fails with `PRECONDITION_FAILED` (`sfu.cannot_consume`) if the capabilities do not fit.
   */
  consume(peerId: string, options: ConsumeOptions): Promise<ConsumerParams> {
    return this.consumers.consume(peerId, options);
  }

  pauseConsumer(peerId: string, consumerId: string): Promise<void> {
    return this.consumers.pause(peerId, consumerId);
  }

  /** Resumes the consumer for the client; a microphone that is not audible now stays paused on the server until it is. */
  resumeConsumer(peerId: string, consumerId: string): Promise<void> {
    return this.consumers.resume(peerId, consumerId);
  }

  /** Whether the consumer forwards now (resumed by the client, not gated, producer not paused). */
  isConsumerForwarding(peerId: string, consumerId: string): boolean {
    return this.consumers.isForwarding(peerId, consumerId);
  }

  /** The microphones forwarded now while the room gates them; `null` when it forwards every one. */
  audibleProducerIds(): string[] | null {
    return this.speakers.audibleProducerIds();
  }

  /** Closes the consumer (reason `closed`). */
  closeConsumer(peerId: string, consumerId: string): void {
    this.consumers.close(peerId, consumerId);
  }

  /** Simulcast consumers only (`BAD_REQUEST` `sfu.not_simulcast` otherwise); `consumerLayersChanged` follows. */
  setConsumerPreferredLayers(peerId: string, consumerId: string, layers: ConsumerLayers): Promise<void> {
    return this.consumers.setPreferredLayers(peerId, consumerId, layers);
  }

  requestConsumerKeyFrame(peerId: string, consumerId: string): Promise<void> {
    return this.consumers.requestKeyFrame(peerId, consumerId);
  }

  getConsumerStats(peerId: string, consumerId: string): Promise<Array<ms.ConsumerStat | ms.ProducerStat>> {
    return this.consumers.stats(peerId, consumerId);
  }

  /** The consumer's current layers (simulcast), `undefined` when it forwards none. */
  getConsumerLayers(peerId: string, consumerId: string): ConsumerLayers | undefined {
    return this.consumers.layers(peerId, consumerId);
  }

  getPeerState(peerId: string): PeerState {
    return peerState(this.ctx.requirePeer(peerId));
  }

  getState(): RoomState {
    const current = this.routers.current;
    return {
      roomId: this.id,
      currentWorkerIndex: current?.alive ? current.index : undefined,
      routers: [...this.ctx.routers.values()].map((r) => ({
        routerId: r.router.id,
        workerIndex: r.worker.index,
        pid: r.worker.pid,
        peerIds: [...r.peerIds],
        activeSpeaker: this.speakers.isOn(r),
      })),
      peers: [...this.ctx.peers.values()].map(peerState),
      producers: this.listProducers(),
      pipes: this.routers.pipeKeys,
      audibleProducerIds: this.audibleProducerIds(),
    };
  }

  /** Removes every peer (`room-closed`), closes the routers and emits `closed`. Idempotent. */
  close(): void {
    const { ctx } = this;
    if (ctx.closed) return;
    ctx.closed = true;
    for (const peer of [...ctx.peers.values()]) this.peers.drop(peer, 'room-closed');
    for (const record of ctx.routers.values()) record.router.close();
    ctx.routers.clear();
    this.speakers.clear();
    ctx.log.info('room closed');
    ctx.notify('closed', { roomId: this.id });
    this.host.roomClosed(this);
  }

  /**
   * @internal Called by the pool once `worker` died (its routers, and everything on them, are
   * already closed). Removes the peers placed there and returns them, or `undefined` if the
   * room had nothing on that worker.
   */
  handleWorkerDied(worker: MediaWorker): AffectedRoom | undefined {
    const { ctx } = this;
    const lost = [...ctx.routers.values()].filter((r) => r.worker === worker);
    const peers = [...ctx.peers.values()].filter((p) => p.router.worker === worker);
    if (lost.length === 0 && peers.length === 0) return undefined;
    for (const record of lost) ctx.routers.delete(record.router.id);
    for (const peer of peers) this.peers.drop(peer, 'worker-died');
    this.speakers.workerDied(worker);
    ctx.log.warn(
      { workerIndex: worker.index, pid: worker.pid, peerIds: peers.map((p) => p.id) },
      'worker died under the room',
    );
    return { roomId: this.id, peerIds: peers.map((p) => p.id) };
  }
}
