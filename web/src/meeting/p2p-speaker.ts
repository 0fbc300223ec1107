import type { P2pCall } from './p2p-call';
import { loudest, type RoomState } from './room-state';

const SPEAKER_POLL_MS = 500;

export interface P2pSpeakerSource {
  /** The peer-to-peer call now, if any. */
  call(): P2pCall | undefined;
  state(): RoomState<MediaStreamTrack>;
  setSpeaker(peerId: string | null): void;
}

/**
 * Peer-to-peer has no server-side speaker detection: compare the two audio levels here.
 * Returns the timer; clear it with `clearInterval`.
 */
export function pollP2pSpeaker(source: P2pSpeakerSource): ReturnType<typeof setInterval> {
  return setInterval(() => {
    const call = source.call();
    const self = source.state().selfId;
    if (!call || !self || source.state().mode !== 'p2p') return;
    call.audioLevels().then(
      ({ remote, local }) => {
        if (source.call() !== call) return;
        const state = source.state();
        const speaker = loudest(
          [
            { peerId: call.remotePeerId, level: remote },
            { peerId: self, level: state.local.mic ? local : 0 },
          ],
          state.activeSpeaker,
        );
        if (speaker !== state.activeSpeaker) source.setSpeaker(speaker);
      },
      (err: unknown) => console.warn('p2p: audio levels unavailable', err),
    );
  }, SPEAKER_POLL_MS);
}
