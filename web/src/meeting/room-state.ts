/**
 * What the meeting room shows, as a pure reducer over what happens: the join answer, the
 * server's notifications, remote tracks appearing and going, the local toggles, and how the
 * meeting ended. The meeting client (`meeting-client.ts`) feeds it; React renders it. Tracks
 * are opaque values here, so the reducer is tested without a browser.
 */
import type { MediaSource, Mode, PeerInfo, ProducerInfo, ResponseData, ServerNotification } from '@quorum/signaling';

export type Phase = 'idle' | 'joining' | 'live' | 'reconnecting' | 'ended';

export interface Peer extends PeerInfo {
  /** The host muted this participant's microphone or camera (until they turn it back on). */
  mutedByHost: { audio: boolean; video: boolean };
}

/** A remote track: keyed by producer id in the SFU, by `p2p:<peer>:<source>` peer-to-peer. */
export interface RemoteMedia<T = unknown> {
  key: string;
  peerId: string;
  source: MediaSource;
  kind: 'audio' | 'video';
  track: T;
  /** The sender paused it (SFU), or stopped sending (peer-to-peer). */
  paused: boolean;
}

export type EndReason = 'left' | 'removed' | 'ended_by_host' | 'empty' | 'refused' | 'replaced' | 'lost';

export interface Ended {
  reason: EndReason;
  /** For people: the server's own words for a refusal. */
  message: string;
  /** A refusal's reason slug from the server (`session.minutes_exhausted`), when it gave one. */
  refusal?: string | undefined;
}

export interface LocalState {
  mic: boolean;
  camera: boolean;
  screen: boolean;
}

export interface RoomState<T = unknown> {
  phase: Phase;
  selfId: string | null;
  mode: Mode | null;
  locked: boolean;
  isHost: boolean;
  canModerate: boolean;
  activeSpeaker: string | null;
  /** Everyone else who is connected, in the order they arrived. */
  peers: Peer[];
  /** Producers of the others (SFU), whether consumed yet or not. */
  producers: ProducerInfo[];
  remote: RemoteMedia<T>[];
  local: LocalState;
  /** A one-off message for this participant ("The host muted your microphone."). */
  notice: string | null;
  ended: Ended | null;
}

export type RoomAction<T = unknown> =
  | { type: 'joining' }
  | { type: 'joined'; answer: ResponseData['join'] }
  | { type: 'reconnecting' }
  | { type: 'notification'; notification: ServerNotification }
  | { type: 'remoteAdded'; media: RemoteMedia<T> }
  | { type: 'remoteRemoved'; key: string }
  | { type: 'remotePaused'; key: string; paused: boolean }
  /** Media of a whole call is gone (leaving p2p for the SFU, or reconnecting). */
  | { type: 'remoteCleared' }
  | { type: 'local'; local: Partial<LocalState> }
  | { type: 'speaker'; peerId: string | null }
  | { type: 'notice'; text: string | null }
  | { type: 'ended'; ended: Ended };

export function initialRoomState<T = unknown>(
  local: LocalState = { mic: true, camera: true, screen: false },
): RoomState<T> {
  return {
    phase: 'idle',
    selfId: null,
    mode: null,
    locked: false,
    isHost: false,
    canModerate: false,
    activeSpeaker: null,
    peers: [],
    producers: [],
    remote: [],
    local,
    notice: null,
    ended: null,
  };
}

const KIND_WORDS = { audio: 'microphone', video: 'camera' } as const;

export function roomReducer<T>(state: RoomState<T>, action: RoomAction<T>): RoomState<T> {
  // Once ended, only a new join changes anything (late frames of a closing socket are ignored).
  if (state.phase === 'ended' && action.type !== 'joining') return state;
  switch (action.type) {
    case 'joining':
      return { ...initialRoomState<T>(state.local), phase: 'joining' };
    case 'joined': {
      const a = action.answer;
      return {
        ...state,
        phase: 'live',
        selfId: a.peerId,
        mode: a.mode,
        locked: a.locked,
        isHost: a.isHost,
        canModerate: a.canModerate,
        activeSpeaker: a.activeSpeaker,
        peers: a.peers.map(toPeer),
        producers: a.producers,
        remote: [],
        ended: null,
      };
    }
    case 'reconnecting':
      return { ...state, phase: 'reconnecting', remote: [], producers: [], activeSpeaker: null };
    case 'notification':
      return onNotification(state, action.notification);
    case 'remoteAdded':
      return { ...state, remote: [...state.remote.filter((m) => m.key !== action.media.key), action.media] };
    case 'remoteRemoved':
      return { ...state, remote: state.remote.filter((m) => m.key !== action.key) };
    case 'remotePaused': {
      const media = state.remote.find((m) => m.key === action.key);
      if (!media) return state;
      return {
        ...state,
        remote: state.remote.map((m) => (m === media ? { ...m, paused: action.paused } : m)),
        // Media flowing again means its owner turned it back on after a host mute.
        peers: action.paused
          ? state.peers
          : state.peers.map((p) => (p.peerId === media.peerId ? liftHostMute(p, media.kind) : p)),
      };
    }
    case 'remoteCleared':
      return { ...state, remote: [] };
    case 'local':
      return { ...state, local: { ...state.local, ...action.local } };
    case 'speaker':
      return { ...state, activeSpeaker: action.peerId };
    case 'notice':
      return { ...state, notice: action.text };
    case 'ended':
      return { ...state, phase: 'ended', ended: action.ended, remote: [], activeSpeaker: null };
    default:
      return assertUnreachable(action);
  }
}

function onNotification<T>(state: RoomState<T>, n: ServerNotification): RoomState<T> {
  switch (n.method) {
    case 'peerJoined':
      return { ...state, peers: [...state.peers.filter((p) => p.peerId !== n.data.peerId), toPeer(n.data)] };
    case 'peerLeft':
      return {
        ...state,
        peers: state.peers.filter((p) => p.peerId !== n.data.peerId),
        producers: state.producers.filter((p) => p.peerId !== n.data.peerId),
        remote: state.remote.filter((m) => m.peerId !== n.data.peerId),
        activeSpeaker: state.activeSpeaker === n.data.peerId ? null : state.activeSpeaker,
      };
    case 'modeChanged':
      return { ...state, mode: n.data.mode };
    case 'newProducer':
      return { ...state, producers: [...state.producers.filter((p) => p.producerId !== n.data.producerId), n.data] };
    case 'producerClosed':
      return {
        ...state,
        producers: state.producers.filter((p) => p.producerId !== n.data.producerId),
        remote: state.remote.filter((m) => m.key !== n.data.producerId),
      };
    case 'producerPaused':
    case 'producerResumed': {
      const paused = n.method === 'producerPaused';
      return {
        ...state,
        producers: state.producers.map((p) => (p.producerId === n.data.producerId ? { ...p, paused } : p)),
        remote: state.remote.map((m) => (m.key === n.data.producerId ? { ...m, paused } : m)),
        // A participant who turns their own device back on is no longer "muted by the host".
        peers: paused
          ? state.peers
          : state.peers.map((p) =>
              p.peerId === n.data.peerId ? liftHostMute(p, kindOfProducer(state, n.data.producerId)) : p,
            ),
      };
    }
    case 'consumerClosed':
      return { ...state, remote: state.remote.filter((m) => m.key !== n.data.producerId) };
    case 'activeSpeaker':
      return { ...state, activeSpeaker: n.data.peerId };
    case 'meetingLocked':
      return { ...state, locked: n.data.locked };
    case 'peerMuted': {
      if (n.data.peerId === state.selfId) {
        const local = n.data.kind === 'audio' ? { ...state.local, mic: false } : { ...state.local, camera: false };
        return { ...state, local, notice: `The host turned off your ${KIND_WORDS[n.data.kind]}.` };
      }
      return {
        ...state,
        peers: state.peers.map((p) =>
          p.peerId === n.data.peerId ? { ...p, mutedByHost: { ...p.mutedByHost, [n.data.kind]: true } } : p,
        ),
      };
    }
    case 'removed':
      return { ...state, phase: 'ended', ended: { reason: 'removed', message: endMessage('removed') }, remote: [] };
    case 'meetingEnded':
      return {
        ...state,
        phase: 'ended',
        ended: { reason: n.data.reason, message: endMessage(n.data.reason) },
        remote: [],
      };
    case 'p2pSignal':
    case 'consumerLayersChanged':
    case 'producerLayersWanted':
    case 'reconnect':
      return state;
    default:
      return assertUnreachable(n);
  }
}

function toPeer(p: PeerInfo): Peer {
  return {
    peerId: p.peerId,
    displayName: p.displayName,
    isHost: p.isHost,
    mutedByHost: { audio: false, video: false },
  };
}

function kindOfProducer(state: RoomState<unknown>, producerId: string): 'audio' | 'video' | undefined {
  return state.producers.find((p) => p.producerId === producerId)?.kind;
}

function liftHostMute(p: Peer, kind: 'audio' | 'video' | undefined): Peer {
  if (!kind || !p.mutedByHost[kind]) return p;
  return { ...p, mutedByHost: { ...p.mutedByHost, [kind]: false } };
}

/** Words for how a meeting ended for this participant. */
export function endMessage(reason: Exclude<EndReason, 'refused'>): string {
  switch (reason) {
    case 'left':
      return 'You left the meeting.';
    case 'removed':
      return 'The host removed you from this meeting.';
    case 'ended_by_host':
      return 'The host ended the meeting for everyone.';
    case 'empty':
      return 'The meeting ended because it was empty.';
    case 'replaced':
      return 'You joined this meeting from another tab or window, so this one left.';
    case 'lost':
      return 'The connection to the meeting was lost and could not be restored.';
    default:
      return assertUnreachable(reason);
  }
}

/** WebSocket close codes the SFU uses (`CLOSE_CODES` of `@quorum/sfu/signaling`). */
export const CLOSE_CODES = {
  left: 4000,
  protocol: 4400,
  unauthorized: 4401,
  refused: 4403,
  removed: 4404,
  replaced: 4409,
  ended: 4410,
} as const;

/** What a closed signaling socket means once joined: the end of the meeting for us, or a drop to recover from. */
export function afterClose(code: number): { end: Exclude<EndReason, 'refused' | 'lost'> } | { rejoin: true } {
  switch (code) {
    case CLOSE_CODES.left:
      return { end: 'left' };
    case CLOSE_CODES.removed:
      return { end: 'removed' };
    case CLOSE_CODES.ended:
      return { end: 'ended_by_host' };
    case CLOSE_CODES.replaced:
      return { end: 'replaced' };
    default:
      // A network drop, a server restart (1001), a protocol slip: rejoin with a fresh token.
      return { rejoin: true };
  }
}

/** Wait before the `attempt`-th rejoin (0-based): quick at first, then every 5 s. */
export function rejoinDelayMs(attempt: number): number {
  return Math.min(5_000, 250 * 2 ** attempt);
}

/**
 * Peer-to-peer roles: whoever found the other already there (in its join answer) makes the
 * first offer and is the impolite side of perfect negotiation; the one who was there first
 * waits for it and yields on a collision. A rejoin makes the rejoiner the offerer again, and
 * both sides reach the same answer without talking.
 */
export function p2pRole(foundPeerAtJoin: boolean): { initiator: boolean; polite: boolean } {
  return foundPeerAtJoin ? { initiator: true, polite: false } : { initiator: false, polite: true };
}

/** The order of the three transceivers of a peer-to-peer call, the same on both sides. */
export const P2P_SOURCES: readonly MediaSource[] = ['mic', 'camera', 'screen'];

export interface Layers {
  spatialLayer: 0 | 1 | 2;
  temporalLayer: 0 | 1 | 2;
}

/**
 * The simulcast layers to receive of each camera when `cameras` are shown: full resolution for
 * one, half for up to four; beyond, a quarter of the resolution at half the frame rate (the
 * cameras send three temporal layers, L1T3), as meeting services do for a gallery of small
 * tiles. Fewer pixels and frames to forward, decode and draw on every receiver, which matters
 * most on small machines and phones.
 */
export function layersFor(cameras: number): Layers {
  if (cameras <= 1) return { spatialLayer: 2, temporalLayer: 2 };
  if (cameras <= 4) return { spatialLayer: 1, temporalLayer: 2 };
  return { spatialLayer: 0, temporalLayer: 1 };
}

/** The peer-to-peer "active speaker": the loudest above `threshold`, else whoever was before. */
export function loudest(
  levels: ReadonlyArray<{ peerId: string; level: number }>,
  previous: string | null,
  threshold = 0.02,
): string | null {
  let best: { peerId: string; level: number } | undefined;
  for (const l of levels) if (l.level >= threshold && (!best || l.level > best.level)) best = l;
  return best?.peerId ?? previous;
}

/** The tiles to show: each participant's camera (a name when it is off), then their shared screens. */
export function tilesOf<T>(
  state: RoomState<T>,
): Array<{ key: string; peerId: string; source: MediaSource; media: RemoteMedia<T> | undefined }> {
  const tiles: Array<{ key: string; peerId: string; source: MediaSource; media: RemoteMedia<T> | undefined }> = [];
  for (const peer of state.peers) {
    const videos = state.remote.filter((m) => m.peerId === peer.peerId && m.kind === 'video');
    const camera = videos.find((m) => m.source === 'camera');
    tiles.push({ key: `${peer.peerId}:camera`, peerId: peer.peerId, source: 'camera', media: camera });
    // A screen that stopped (peer-to-peer keeps its track, muted) is no tile.
    for (const screen of videos.filter((m) => m.source === 'screen' && !m.paused))
      tiles.push({ key: screen.key, peerId: peer.peerId, source: 'screen', media: screen });
  }
  return tiles;
}

export function assertUnreachable(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}
