/** What goes out on the signaling sockets: notifications to one participant or a whole meeting, and answers. */
import type {
  NotificationData,
  NotificationMethod,
  PeerInfo,
  ProducerInfo as WireProducerInfo,
  SignalingError,
} from '@quorum/signaling';
import { WebSocket } from 'ws';
import type { ProducerInfo } from '../media/types';
import type { Meeting, Participant } from './types';

export function peerInfo(p: Participant): PeerInfo {
  return { peerId: p.peerId, displayName: p.claims.name, isHost: p.claims.host };
}

export function toWireProducer(p: ProducerInfo): WireProducerInfo {
  return { producerId: p.producerId, peerId: p.peerId, kind: p.kind, source: p.source, paused: p.paused };
}

export function notify<M extends NotificationMethod>(
  participant: Participant,
  method: M,
  data: NotificationData<M>,
): void {
  if (participant.socket) send(participant.socket, { type: 'notification', method, data });
}

export function broadcast<M extends NotificationMethod>(
  meeting: Meeting,
  method: M,
  data: NotificationData<M>,
  exceptPeerId?: string,
): void {
  for (const p of meeting.participants.values()) if (p.peerId !== exceptPeerId) notify(p, method, data);
}

export function respondError(socket: WebSocket, id: number, error: SignalingError): void {
  send(socket, { type: 'response', id, ok: false, error });
}

export function send(socket: WebSocket, message: unknown): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}
