/**
 * A room's peers: placing one on a router when it joins, and removing it with everything it
 * holds. A leaving peer's transports close first, so its producers and consumers (and every
 * consumer of its producers) emit their close events before its `peerLeft`.
 */
import { conflict, preconditionFailed } from '@quorum/domain';
import type { AddPeerOptions, PeerJoined, PeerLeftReason, PeerState, RtpCapabilities } from '../types';
import type { RoomContext } from './context';
import type { PeerRecord } from './records';
import type { RoomRouters } from './routers';
import { LEAVE_REASON } from './transports';

export class RoomPeers {
  private readonly joining = new Set<string>();

  constructor(
    private readonly ctx: RoomContext,
    private readonly routers: RoomRouters,
  ) {}

  async add(peerId: string, options: AddPeerOptions): Promise<PeerJoined> {
    const { ctx } = this;
    ctx.assertOpen();
    if (ctx.peers.has(peerId) || this.joining.has(peerId)) {
      throw conflict('sfu.peer_exists', `peer ${peerId} is already in room ${ctx.id}`, { roomId: ctx.id, peerId });
    }
    this.joining.add(peerId);
    try {
      const { worker, placement } = this.routers.place();
      const router = await this.routers.on(worker);
      ctx.assertOpen();
      if (router.router.closed) {
        throw preconditionFailed('sfu.worker_died', `the worker chosen for peer ${peerId} died; join again`, {
          roomId: ctx.id,
          peerId,
        });
      }
      this.routers.current = worker;
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
      ctx.peers.set(peerId, peer);
      router.peerIds.add(peerId);
      ctx.log.info(
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
        roomId: ctx.id,
        peerId,
        workerIndex: worker.index,
        routerId: router.router.id,
        rtpCapabilities: router.router.rtpCapabilities,
      };
    } finally {
      this.joining.delete(peerId);
    }
  }

  setRtpCapabilities(peerId: string, rtpCapabilities: RtpCapabilities): void {
    this.ctx.requirePeer(peerId).rtpCapabilities = rtpCapabilities;
  }

  drop(peer: PeerRecord, reason: PeerLeftReason): void {
    const { ctx } = this;
    peer.leaving = reason;
    for (const transport of [...peer.transports.values()]) {
      transport.closing ??= LEAVE_REASON[reason];
      transport.transport.close();
    }
    ctx.peers.delete(peer.id);
    peer.router.peerIds.delete(peer.id);
    ctx.log.info({ peerId: peer.id, reason }, 'peer left');
    ctx.notify('peerLeft', { roomId: ctx.id, peerId: peer.id, reason });
  }
}

export function peerState(peer: PeerRecord): PeerState {
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
