import type { RequestData } from '@quorum/signaling';
import { notify } from './send';
import { Refusal, type Meeting, type Participant } from './types';

/** `p2pSignal`: in a peer-to-peer call the server only passes the browsers' signals between them. */
export function relayP2pSignal(
  meeting: Meeting,
  from: Participant,
  data: RequestData<'p2pSignal'>,
): Record<string, never> {
  if (meeting.mode !== 'p2p')
    throw new Refusal(
      'PRECONDITION_FAILED',
      'The meeting runs through the SFU now; peer-to-peer signals are not relayed.',
      'signaling.not_p2p',
    );
  const to = meeting.participants.get(data.to);
  if (!to || to === from || !to.socket)
    throw new Refusal('NOT_FOUND', `No connected participant ${data.to} in this meeting.`, 'signaling.peer_not_found');
  notify(to, 'p2pSignal', { from: from.peerId, signal: data.signal });
  return {};
}
