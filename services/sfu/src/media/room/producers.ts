/**
 * Producers: at most one per source and peer, on the peer's send transports. A producer lives
 * on its peer's router and is piped elsewhere only when consumed there (see `routers.ts`).
 */
import { badRequest, conflict, notFound } from '@quorum/domain';
import type { types as ms } from 'mediasoup';
import { SOURCE_KIND, type ProduceOptions, type ProducerInfo } from '../types';
import type { RoomContext } from './context';
import type { ProducerRecord } from './records';
import type { RoomSpeakers } from './speakers';
import { transportCloseReason } from './transports';

export class RoomProducers {
  constructor(
    private readonly ctx: RoomContext,
    private readonly speakers: RoomSpeakers,
  ) {}

  async produce(peerId: string, options: ProduceOptions): Promise<ProducerInfo> {
    const { ctx } = this;
    const peer = ctx.requirePeer(peerId);
    const transport = ctx.requireTransport(peerId, options.transportId);
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
    ctx.producers.set(producer.id, record);
    peer.producers.set(producer.id, record);
    producer.on('transportclose', () => {
      record.closing ??= transportCloseReason(ctx, transport);
    });
    producer.observer.once('close', () => this.gone(record));
    const paused = (isPaused: boolean) => () => {
      ctx.notify('producerPaused', { roomId: ctx.id, peerId, producerId: producer.id, paused: isPaused });
      // An unmuted microphone more or fewer may start or stop the gating.
      if (producer.kind === 'audio') this.speakers.regate();
    };
    producer.observer.on('pause', paused(true));
    producer.observer.on('resume', paused(false));
    const info = producerInfo(record);
    ctx.notify('newProducer', { roomId: ctx.id, producer: info });
    if (producer.kind === 'audio') this.speakers.micAdded(record);
    return info;
  }

  list(): ProducerInfo[] {
    return [...this.ctx.producers.values()].map(producerInfo);
  }

  async pause(peerId: string, producerId: string): Promise<void> {
    await this.ctx.requireOwnProducer(peerId, producerId).producer.pause();
  }

  async resume(peerId: string, producerId: string): Promise<void> {
    await this.ctx.requireOwnProducer(peerId, producerId).producer.resume();
  }

  close(peerId: string, producerId: string): void {
    const record = this.ctx.requireOwnProducer(peerId, producerId);
    record.closing ??= 'closed';
    record.producer.close();
  }

  async stats(peerId: string, producerId: string): Promise<ms.ProducerStat[]> {
    return this.ctx.requireOwnProducer(peerId, producerId).producer.getStats();
  }

  private gone(record: ProducerRecord): void {
    const { ctx } = this;
    const { id } = record.producer;
    if (ctx.producers.get(id) !== record) return;
    ctx.producers.delete(id);
    record.peer.producers.delete(id);
    if (record.lowering) clearTimeout(record.lowering);
    if (record.producer.kind === 'audio') this.speakers.micGone(id);
    const reason = record.closing ?? 'closed';
    ctx.log.debug({ peerId: record.peer.id, producerId: id, reason }, 'producer closed');
    ctx.notify('producerClosed', { roomId: ctx.id, peerId: record.peer.id, producerId: id, reason });
  }
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
