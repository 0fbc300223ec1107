/**
 * Consumers: a peer's copies of other peers' producers, on its recv transports. A consumer is
 * paused on the worker while its client has it paused or while the room gates its microphone
 * (see `speakers.ts`); its client's choice of layer feeds the producer's wanted layer (see
 * `wanted-layers.ts`).
 */
import { badRequest, notFound, preconditionFailed } from '@quorum/domain';
import type { types as ms } from 'mediasoup';
import type { ConsumeOptions, ConsumerLayers, ConsumerParams } from '../types';
import type { RoomContext } from './context';
import type { ConsumerRecord } from './records';
import type { RoomRouters } from './routers';
import { applyPause, type RoomSpeakers } from './speakers';
import { transportCloseReason } from './transports';
import { reviewWantedLayers, topSpatialLayer } from './wanted-layers';

export class RoomConsumers {
  constructor(
    private readonly ctx: RoomContext,
    private readonly routers: RoomRouters,
    private readonly speakers: RoomSpeakers,
  ) {}

  async consume(peerId: string, options: ConsumeOptions): Promise<ConsumerParams> {
    const { ctx } = this;
    const peer = ctx.requirePeer(peerId);
    const rtpCapabilities = options.rtpCapabilities ?? peer.rtpCapabilities;
    if (!rtpCapabilities) {
      throw badRequest('sfu.no_rtp_capabilities', `peer ${peerId} has given no RTP capabilities`, { peerId });
    }
    const transport =
      options.transportId === undefined
        ? ctx.lastRecvTransport(peer)
        : ctx.requireTransport(peerId, options.transportId);
    if (transport.direction !== 'recv') {
      throw badRequest(
        'sfu.wrong_direction',
        `transport ${transport.id} is a send transport; consume on a recv transport`,
      );
    }
    const producer = ctx.requireProducer(options.producerId);
    await this.routers.pipeTo(producer, peer.router);
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
      gated: this.speakers.isGated(producerId),
      pausing: Promise.resolve(),
    };
    peer.consumers.set(consumer.id, record);
    const event = { roomId: ctx.id, peerId, consumerId: consumer.id, producerId };
    consumer.on('transportclose', () => {
      record.closing ??= transportCloseReason(ctx, transport);
    });
    consumer.on('producerclose', () => {
      record.closing ??= 'producer-closed';
    });
    consumer.observer.once('close', () => this.gone(record));
    consumer.on('producerpause', () => ctx.notify('consumerProducerPaused', { ...event, producerPaused: true }));
    consumer.on('producerresume', () => ctx.notify('consumerProducerPaused', { ...event, producerPaused: false }));
    consumer.on('layerschange', (layers) =>
      ctx.notify('consumerLayersChanged', {
        roomId: ctx.id,
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

  async pause(peerId: string, consumerId: string): Promise<void> {
    const record = this.ctx.requireConsumer(peerId, consumerId);
    record.clientPaused = true;
    await applyPause(record);
    reviewWantedLayers(this.ctx, record.producerId);
  }

  async resume(peerId: string, consumerId: string): Promise<void> {
    const record = this.ctx.requireConsumer(peerId, consumerId);
    record.clientPaused = false;
    await applyPause(record);
    reviewWantedLayers(this.ctx, record.producerId);
  }

  isForwarding(peerId: string, consumerId: string): boolean {
    const { consumer } = this.ctx.requireConsumer(peerId, consumerId);
    return !consumer.paused && !consumer.producerPaused;
  }

  close(peerId: string, consumerId: string): void {
    const record = this.ctx.requireConsumer(peerId, consumerId);
    record.closing ??= 'closed';
    record.consumer.close();
  }

  async setPreferredLayers(peerId: string, consumerId: string, layers: ConsumerLayers): Promise<void> {
    const record = this.ctx.requireConsumer(peerId, consumerId);
    const { consumer } = record;
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc') {
      throw badRequest(
        'sfu.not_simulcast',
        `consumer ${consumerId} is ${consumer.type}; preferred layers need simulcast`,
      );
    }
    await consumer.setPreferredLayers(layers);
    record.spatialWanted = layers.spatialLayer;
    reviewWantedLayers(this.ctx, record.producerId);
  }

  async requestKeyFrame(peerId: string, consumerId: string): Promise<void> {
    await this.ctx.requireConsumer(peerId, consumerId).consumer.requestKeyFrame();
  }

  async stats(peerId: string, consumerId: string): Promise<Array<ms.ConsumerStat | ms.ProducerStat>> {
    return this.ctx.requireConsumer(peerId, consumerId).consumer.getStats();
  }

  layers(peerId: string, consumerId: string): ConsumerLayers | undefined {
    return this.ctx.requireConsumer(peerId, consumerId).consumer.currentLayers;
  }

  private gone(record: ConsumerRecord): void {
    const { id } = record.consumer;
    if (record.peer.consumers.get(id) !== record) return;
    record.peer.consumers.delete(id);
    reviewWantedLayers(this.ctx, record.producerId);
    const reason = record.closing ?? 'closed';
    this.ctx.notify('consumerClosed', {
      roomId: this.ctx.id,
      peerId: record.peer.id,
      consumerId: id,
      producerId: record.producerId,
      reason,
    });
  }
}
