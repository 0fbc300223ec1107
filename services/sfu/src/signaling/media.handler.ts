import type { ClientRequest, ResponseData } from '@quorum/signaling';
import type { RtpCapabilities } from '../media/types';
import type { Meetings } from './meetings';
import { Refusal, type Meeting, type Participant } from './types';

/** The media requests of a meeting in `sfu` mode; the participant becomes a peer of the room on its first one. */
export async function handleMediaRequest(
  meetings: Meetings,
  meeting: Meeting,
  participant: Participant,
  request: Exclude<ClientRequest, { method: 'join' | 'leave' | 'p2pSignal' }>,
): Promise<unknown> {
  if (meeting.mode !== 'sfu')
    throw new Refusal(
      'PRECONDITION_FAILED',
      'This is a peer-to-peer call; media goes through the SFU only once a third participant joins.',
      'signaling.not_sfu',
    );
  const room = await meetings.mediaRoom(meeting);
  const peerId = participant.peerId;
  if (!participant.inMedia) {
    await room.addPeer(peerId, participant.rtpCapabilities ? { rtpCapabilities: participant.rtpCapabilities } : {});
    participant.inMedia = true;
  }
  switch (request.method) {
    case 'getRouterRtpCapabilities':
      return { rtpCapabilities: room.rtpCapabilities };
    case 'setRtpCapabilities':
      participant.rtpCapabilities = request.data.rtpCapabilities as unknown as RtpCapabilities;
      room.setPeerRtpCapabilities(peerId, participant.rtpCapabilities);
      return {};
    case 'createWebRtcTransport':
      return room.createWebRtcTransport(peerId, { direction: request.data.direction });
    case 'connectWebRtcTransport':
      await room.connectWebRtcTransport(peerId, request.data.transportId, request.data.dtlsParameters as never);
      return {};
    case 'restartIce':
      return { iceParameters: await room.restartIce(peerId, request.data.transportId) };
    case 'produce': {
      const producer = await room.produce(peerId, {
        transportId: request.data.transportId,
        kind: request.data.kind,
        rtpParameters: request.data.rtpParameters as never,
        source: request.data.source,
      });
      return { producerId: producer.producerId };
    }
    case 'closeProducer':
      room.closeProducer(peerId, request.data.producerId);
      return {};
    case 'pauseProducer':
      await room.pauseProducer(peerId, request.data.producerId);
      return {};
    case 'resumeProducer':
      await room.resumeProducer(peerId, request.data.producerId);
      return {};
    case 'consume': {
      const { producerId, spatialLayer, temporalLayer } = request.data;
      const c = await room.consume(peerId, {
        producerId,
        ...(spatialLayer !== undefined
          ? { preferredLayers: { spatialLayer, ...(temporalLayer !== undefined ? { temporalLayer } : {}) } }
          : {}),
      });
      return {
        consumerId: c.consumerId,
        producerId: c.producerId,
        peerId: c.producerPeerId,
        kind: c.kind,
        source: c.source,
        rtpParameters: c.rtpParameters,
        type: c.type,
        producerPaused: c.producerPaused,
      } satisfies ResponseData['consume'];
    }
    case 'pauseConsumer':
      await room.pauseConsumer(peerId, request.data.consumerId);
      return {};
    case 'resumeConsumer':
      await room.resumeConsumer(peerId, request.data.consumerId);
      return {};
    case 'setPreferredLayers':
      await room.setConsumerPreferredLayers(peerId, request.data.consumerId, {
        spatialLayer: request.data.spatialLayer,
        ...(request.data.temporalLayer !== undefined ? { temporalLayer: request.data.temporalLayer } : {}),
      });
      return {};
    default: {
      const unknown: never = request;
      throw new Refusal('BAD_REQUEST', `Unknown method ${(unknown as { method: string }).method}.`);
    }
  }
}
