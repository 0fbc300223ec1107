/**
 * What every part of a room shares: its id, logger and settings, the routers, peers and
 * producers it holds, whether it is closed, and the lookups that turn an id from a request into
 * a record or a typed error.
 */
import type { EventEmitter } from 'node:events';
import { notFound, preconditionFailed } from '@quorum/domain';
import type { Logger } from 'pino';
import type { MediaWorker } from '../media-worker';
import type { RoomEvents } from '../types';
import type {
  ConsumerRecord,
  PeerRecord,
  ProducerRecord,
  RoomSettings,
  RouterRecord,
  TransportRecord,
} from './records';

export interface RoomContextOptions {
  id: string;
  log: Logger;
  settings: RoomSettings;
  liveWorkers: () => readonly MediaWorker[];
  /** The room itself, whose listeners hear `notify()`. */
  emitter: EventEmitter;
}

export class RoomContext {
  readonly id: string;
  readonly log: Logger;
  readonly settings: RoomSettings;
  readonly liveWorkers: () => readonly MediaWorker[];
  readonly routers = new Map<string, RouterRecord>();
  readonly peers = new Map<string, PeerRecord>();
  readonly producers = new Map<string, ProducerRecord>();
  closed = false;
  private readonly emitter: EventEmitter;

  constructor(options: RoomContextOptions) {
    this.id = options.id;
    this.log = options.log;
    this.settings = options.settings;
    this.liveWorkers = options.liveWorkers;
    this.emitter = options.emitter;
  }

  /** Emits to the room's listeners; a listener that throws is logged, never thrown into mediasoup. */
  notify<K extends keyof RoomEvents>(event: K, ...args: RoomEvents[K]): void {
    try {
      // Typed by the signature above; EventEmitter's own generics cannot follow a generic K.
      this.emitter.emit(event, ...args);
    } catch (err) {
      this.log.error({ err, event }, 'room event listener threw');
    }
  }

  assertOpen(): void {
    if (this.closed) throw preconditionFailed('sfu.room_closed', `room ${this.id} is closed`, { roomId: this.id });
  }

  requirePeer(peerId: string): PeerRecord {
    const peer = this.peers.get(peerId);
    if (!peer)
      throw notFound('sfu.peer_not_found', `peer ${peerId} is not in room ${this.id}`, { roomId: this.id, peerId });
    return peer;
  }

  requireTransport(peerId: string, transportId: string): TransportRecord {
    const transport = this.requirePeer(peerId).transports.get(transportId);
    if (!transport)
      throw notFound('sfu.transport_not_found', `peer ${peerId} has no transport ${transportId}`, {
        peerId,
        transportId,
      });
    return transport;
  }

  lastRecvTransport(peer: PeerRecord): TransportRecord {
    const recv = [...peer.transports.values()].filter((t) => t.direction === 'recv');
    const last = recv[recv.length - 1];
    if (!last)
      throw preconditionFailed('sfu.no_recv_transport', `peer ${peer.id} has no recv transport`, { peerId: peer.id });
    return last;
  }

  requireProducer(producerId: string): ProducerRecord {
    const producer = this.producers.get(producerId);
    if (!producer)
      throw notFound('sfu.producer_not_found', `no producer ${producerId} in room ${this.id}`, { producerId });
    return producer;
  }

  requireOwnProducer(peerId: string, producerId: string): ProducerRecord {
    const producer = this.requirePeer(peerId).producers.get(producerId);
    if (!producer)
      throw notFound('sfu.producer_not_found', `peer ${peerId} has no producer ${producerId}`, { peerId, producerId });
    return producer;
  }

  requireConsumer(peerId: string, consumerId: string): ConsumerRecord {
    const consumer = this.requirePeer(peerId).consumers.get(consumerId);
    if (!consumer)
      throw notFound('sfu.consumer_not_found', `peer ${peerId} has no consumer ${consumerId}`, { peerId, consumerId });
    return consumer;
  }
}
