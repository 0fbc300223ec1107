/**
 * A peer's transports: WebRtcTransports on its worker's WebRtcServer for browsers, and
 * PlainTransports (plain RTP over UDP) for tests, benchmarks, recorders and gateways. All of a
 * peer's transports live on the router it was placed on.
 */
import { badRequest, notFound, preconditionFailed } from '@quorum/domain';
import type { types as ms } from 'mediasoup';
import type {
  DtlsParameters,
  IceParameters,
  PeerLeftReason,
  PlainTransportOptions,
  PlainTransportParams,
  PlainTransportRemote,
  ProducerCloseReason,
  TransportDirection,
  WebRtcTransportParams,
} from '../types';
import type { RoomContext } from './context';
import type { CreatedTransport, PeerRecord, TransportRecord } from './records';

/** The most WebRtcTransports one participant may hold open at once. */
export const MAX_WEBRTC_TRANSPORTS_PER_PEER = 4;

/** What closes a leaving peer's transports, producers and consumers. */
export const LEAVE_REASON: Readonly<Record<PeerLeftReason, ProducerCloseReason>> = {
  left: 'peer-left',
  'worker-died': 'worker-died',
  'room-closed': 'room-closed',
};

/** Why a producer or consumer closed with its transport, from what started the cascade. */
export function transportCloseReason(ctx: RoomContext, transport: TransportRecord): ProducerCloseReason {
  if (transport.closing) return transport.closing;
  if (transport.router.worker.worker.died) return 'worker-died';
  if (transport.peer.leaving) return LEAVE_REASON[transport.peer.leaving];
  return ctx.closed ? 'room-closed' : 'transport-closed';
}

export class RoomTransports {
  constructor(private readonly ctx: RoomContext) {}

  async createWebRtc(peerId: string, options: { direction: TransportDirection }): Promise<WebRtcTransportParams> {
    const { ctx } = this;
    const peer = ctx.requirePeer(peerId);
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
      initialAvailableOutgoingBitrate: ctx.settings.initialAvailableOutgoingBitrate,
      appData: { peerId, direction: options.direction },
    });
    const record = this.adopt(peer, { type: 'webrtc', transport, direction: options.direction });
    const { maxIncomingBitrate } = ctx.settings;
    if (maxIncomingBitrate !== undefined && options.direction === 'send') {
      await transport.setMaxIncomingBitrate(maxIncomingBitrate);
    }
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed')
        ctx.log.warn({ peerId, transportId: record.id, state }, 'WebRtcTransport DTLS state');
    });
    transport.on('icestatechange', (state) =>
      ctx.log.debug({ peerId, transportId: record.id, state }, 'WebRtcTransport ICE state'),
    );
    return {
      transportId: transport.id,
      direction: options.direction,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connectWebRtc(peerId: string, transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    const record = this.ctx.requireTransport(peerId, transportId);
    if (record.type !== 'webrtc')
      throw badRequest('sfu.wrong_transport_type', `transport ${transportId} is not a WebRtcTransport`);
    await record.transport.connect({ dtlsParameters });
  }

  async restartIce(peerId: string, transportId: string): Promise<IceParameters> {
    const record = this.ctx.requireTransport(peerId, transportId);
    if (record.type !== 'webrtc')
      throw badRequest('sfu.wrong_transport_type', `transport ${transportId} is not a WebRtcTransport`);
    return record.transport.restartIce();
  }

  async createPlain(peerId: string, options: PlainTransportOptions): Promise<PlainTransportParams> {
    const peer = this.ctx.requirePeer(peerId);
    const { listenIp, announcedIp } = this.ctx.settings;
    const transport = await peer.router.router.createPlainTransport({
      listenIp: announcedIp ? { ip: listenIp, announcedIp } : listenIp,
      rtcpMux: options.rtcpMux ?? true,
      comedia: options.comedia ?? false,
      appData: { peerId, direction: options.direction },
    });
    this.adopt(peer, { type: 'plain', transport, direction: options.direction });
    return {
      transportId: transport.id,
      direction: options.direction,
      ip: transport.tuple.localIp,
      port: transport.tuple.localPort,
      ...(transport.rtcpTuple ? { rtcpPort: transport.rtcpTuple.localPort } : {}),
    };
  }

  async connectPlain(peerId: string, transportId: string, remote: PlainTransportRemote): Promise<void> {
    const record = this.ctx.requireTransport(peerId, transportId);
    if (record.type !== 'plain')
      throw badRequest('sfu.wrong_transport_type', `transport ${transportId} is not a PlainTransport`);
    await record.transport.connect(remote);
  }

  close(peerId: string, transportId: string): void {
    const record = this.ctx.requireTransport(peerId, transportId);
    record.closing ??= 'transport-closed';
    record.transport.close();
  }

  private adopt(peer: PeerRecord, created: CreatedTransport): TransportRecord {
    const base = { id: created.transport.id, peer, router: peer.router, closing: undefined };
    const record: TransportRecord = created.type === 'webrtc' ? { ...base, ...created } : { ...base, ...created };
    if (peer.leaving || this.ctx.peers.get(peer.id) !== peer) {
      // The peer left while the transport was being created.
      created.transport.close();
      throw notFound('sfu.peer_not_found', `peer ${peer.id} left the room`, { peerId: peer.id });
    }
    peer.transports.set(record.id, record);
    const transport: ms.Transport = created.transport;
    transport.observer.once('close', () => peer.transports.delete(record.id));
    return record;
  }
}
