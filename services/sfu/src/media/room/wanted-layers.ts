/**
 * Tells the owner of a simulcast video producer the highest spatial layer its consumers want
 * (resumed ones; the lowest when none is), so it stops encoding the layers above: in a grid
 * of small tiles every receiver takes the lowest layer, and a camera encoding 720p for nobody
 * spends most of a sender's CPU. A rise is told at once; a fall after `layersLowerAfterMs`,
 * so a layout that shrinks and grows again does not make the sender restart a layer.
 */
import type { types as ms } from 'mediasoup';
import type { RoomContext } from './context';

/** Looks again at what the consumers of `producerId` want; called whenever one of them changes. */
export function reviewWantedLayers(ctx: RoomContext, producerId: string): void {
  const record = ctx.producers.get(producerId);
  if (!record || record.producer.kind !== 'video' || record.producer.type !== 'simulcast' || record.closing) return;
  const wanted = wantedSpatialLayer(ctx, producerId);
  if (wanted === record.wantedSpatial) {
    if (record.lowering) clearTimeout(record.lowering);
    record.lowering = undefined;
    return;
  }
  const tell = () => {
    record.wantedSpatial = wantedSpatialLayer(ctx, producerId);
    ctx.notify('producerLayersWanted', {
      roomId: ctx.id,
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
    if (ctx.producers.get(producerId) !== record || record.closing) return;
    if (wantedSpatialLayer(ctx, producerId) !== record.wantedSpatial) tell();
  }, ctx.settings.layersLowerAfterMs);
}

/** The highest spatial layer of a simulcast producer (0 for any other). */
export function topSpatialLayer(producer: ms.Producer): number {
  return producer.type === 'simulcast' ? Math.max(0, (producer.rtpParameters.encodings?.length ?? 1) - 1) : 0;
}

function wantedSpatialLayer(ctx: RoomContext, producerId: string): number {
  let wanted = 0;
  for (const peer of ctx.peers.values()) {
    for (const c of peer.consumers.values()) {
      if (c.producerId === producerId && !c.clientPaused && !c.closing) wanted = Math.max(wanted, c.spatialWanted);
    }
  }
  return wanted;
}
