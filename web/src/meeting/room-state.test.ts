import type { ResponseData, ServerNotification } from '@quorum/signaling';
import { describe, expect, it } from 'vitest';
import {
  afterClose,
  initialRoomState,
  loudest,
  p2pRole,
  rejoinDelayMs,
  roomReducer,
  layersFor,
  tilesOf,
  type RoomAction,
  type RoomState,
} from './room-state';

const answer: ResponseData['join'] = {
  peerId: 'me',
  mode: 'p2p',
  peers: [{ peerId: 'ada', displayName: 'Ada', isHost: true }],
  producers: [],
  iceServers: [],
  locked: false,
  isHost: false,
  canModerate: false,
  activeSpeaker: null,
};

function run(actions: RoomAction<string>[], from: RoomState<string> = initialRoomState<string>()): RoomState<string> {
  return actions.reduce(roomReducer<string>, from);
}

const note = (n: ServerNotification): RoomAction<string> => ({ type: 'notification', notification: n });

describe('roomReducer', () => {
  it('takes the join answer: who is there, the mode, and what we may do', () => {
    const s = run([{ type: 'joining' }, { type: 'joined', answer: { ...answer, canModerate: true, locked: true } }]);
    expect(s).toMatchObject({ phase: 'live', selfId: 'me', mode: 'p2p', locked: true, canModerate: true });
    expect(s.peers).toEqual([
      { peerId: 'ada', displayName: 'Ada', isHost: true, mutedByHost: { audio: false, video: false } },
    ]);
  });

  it('follows people arriving and leaving, and their media with them', () => {
    const s = run([
      { type: 'joined', answer },
      note({ type: 'notification', method: 'peerJoined', data: { peerId: 'bob', displayName: 'Bob', isHost: false } }),
      note({ type: 'notification', method: 'modeChanged', data: { mode: 'sfu' } }),
      note({
        type: 'notification',
        method: 'newProducer',
        data: { producerId: 'p1', peerId: 'bob', kind: 'video', source: 'camera', paused: false },
      }),
      {
        type: 'remoteAdded',
        media: { key: 'p1', peerId: 'bob', source: 'camera', kind: 'video', track: 'bob-cam', paused: false },
      },
      note({ type: 'notification', method: 'activeSpeaker', data: { peerId: 'bob' } }),
    ]);
    expect(s.mode).toBe('sfu');
    expect(s.peers.map((p) => p.peerId)).toEqual(['ada', 'bob']);
    expect(s.remote.map((m) => m.track)).toEqual(['bob-cam']);
    const left = run([note({ type: 'notification', method: 'peerLeft', data: { peerId: 'bob' } })], s);
    expect(left.peers.map((p) => p.peerId)).toEqual(['ada']);
    expect(left.remote).toEqual([]);
    expect(left.producers).toEqual([]);
    expect(left.activeSpeaker).toBeNull();
  });

  it('marks paused producers and closed ones', () => {
    const s = run([
      {
        type: 'joined',
        answer: {
          ...answer,
          mode: 'sfu',
          producers: [{ producerId: 'p1', peerId: 'ada', kind: 'audio', source: 'mic', paused: false }],
        },
      },
      {
        type: 'remoteAdded',
        media: { key: 'p1', peerId: 'ada', source: 'mic', kind: 'audio', track: 'ada-mic', paused: false },
      },
      note({ type: 'notification', method: 'producerPaused', data: { producerId: 'p1', peerId: 'ada' } }),
    ]);
    expect(s.producers[0]?.paused).toBe(true);
    expect(s.remote[0]?.paused).toBe(true);
    const closed = run(
      [note({ type: 'notification', method: 'producerClosed', data: { producerId: 'p1', peerId: 'ada' } })],
      s,
    );
    expect(closed.remote).toEqual([]);
    expect(closed.producers).toEqual([]);
  });

  it('a host mute of us turns our device off and says so; of someone else, marks them until they turn it back on', () => {
    const self = run([
      { type: 'joined', answer },
      note({ type: 'notification', method: 'peerMuted', data: { peerId: 'me', kind: 'audio', byHost: true } }),
    ]);
    expect(self.local.mic).toBe(false);
    expect(self.notice).toBe('The host turned off your microphone.');

    const other = run([
      { type: 'joined', answer },
      {
        type: 'remoteAdded',
        media: { key: 'p2p:ada:mic', peerId: 'ada', source: 'mic', kind: 'audio', track: 't', paused: false },
      },
      note({ type: 'notification', method: 'peerMuted', data: { peerId: 'ada', kind: 'audio', byHost: true } }),
      { type: 'remotePaused', key: 'p2p:ada:mic', paused: true },
    ]);
    expect(other.peers[0]?.mutedByHost).toEqual({ audio: true, video: false });
    expect(run([{ type: 'remotePaused', key: 'p2p:ada:mic', paused: false }], other).peers[0]?.mutedByHost.audio).toBe(
      false,
    );
  });

  it('ends on removal or the end of the meeting, and then ignores late frames', () => {
    const removed = run([{ type: 'joined', answer }, note({ type: 'notification', method: 'removed', data: {} })]);
    expect(removed).toMatchObject({
      phase: 'ended',
      ended: { reason: 'removed', message: 'The host removed you from this meeting.' },
    });
    expect(run([note({ type: 'notification', method: 'peerLeft', data: { peerId: 'ada' } })], removed)).toBe(removed);

    const ended = run([
      { type: 'joined', answer },
      note({ type: 'notification', method: 'meetingEnded', data: { reason: 'ended_by_host' } }),
    ]);
    expect(ended.ended).toEqual({ reason: 'ended_by_host', message: 'The host ended the meeting for everyone.' });
    // Joining again starts afresh, keeping the local toggles.
    const again = run(
      [{ type: 'local', local: { camera: false } }, { type: 'joining' }],
      run([{ type: 'joined', answer }]),
    );
    expect(again).toMatchObject({ phase: 'joining', peers: [], local: { camera: false } });
  });

  it('reconnecting drops media but keeps the people', () => {
    const s = run([
      { type: 'joined', answer },
      {
        type: 'remoteAdded',
        media: { key: 'k', peerId: 'ada', source: 'camera', kind: 'video', track: 't', paused: false },
      },
      { type: 'reconnecting' },
    ]);
    expect(s).toMatchObject({ phase: 'reconnecting', remote: [] });
    expect(s.peers).toHaveLength(1);
  });
});

describe('tilesOf', () => {
  it('gives everyone a camera tile (with or without video) plus one per screen being shared', () => {
    const s = run([
      {
        type: 'joined',
        answer: { ...answer, peers: [answer.peers[0]!, { peerId: 'bob', displayName: 'Bob', isHost: false }] },
      },
      {
        type: 'remoteAdded',
        media: { key: 'a-cam', peerId: 'ada', source: 'camera', kind: 'video', track: 'c', paused: false },
      },
      {
        type: 'remoteAdded',
        media: { key: 'a-scr', peerId: 'ada', source: 'screen', kind: 'video', track: 's', paused: false },
      },
      {
        type: 'remoteAdded',
        media: { key: 'a-mic', peerId: 'ada', source: 'mic', kind: 'audio', track: 'm', paused: false },
      },
      {
        type: 'remoteAdded',
        media: { key: 'b-scr', peerId: 'bob', source: 'screen', kind: 'video', track: 'stopped', paused: true },
      },
    ]);
    expect(tilesOf(s).map((t) => [t.peerId, t.source, t.media?.track])).toEqual([
      ['ada', 'camera', 'c'],
      ['ada', 'screen', 's'],
      ['bob', 'camera', undefined],
    ]);
  });
});

describe('afterClose', () => {
  it('ends for good on leave, removal, end and replacement; rejoins on anything else', () => {
    expect(afterClose(4000)).toEqual({ end: 'left' });
    expect(afterClose(4404)).toEqual({ end: 'removed' });
    expect(afterClose(4410)).toEqual({ end: 'ended_by_host' });
    expect(afterClose(4409)).toEqual({ end: 'replaced' });
    for (const code of [1001, 1006, 1011, 4400, 3000]) expect(afterClose(code)).toEqual({ rejoin: true });
  });
});

describe('rejoinDelayMs', () => {
  it('starts fast and settles at 5 s', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(rejoinDelayMs)).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });
});

describe('p2pRole', () => {
  it('the one who found the other there offers and is impolite; the other answers and yields', () => {
    expect(p2pRole(true)).toEqual({ initiator: true, polite: false });
    expect(p2pRole(false)).toEqual({ initiator: false, polite: true });
  });
});

describe('loudest', () => {
  it('picks the loudest above the threshold, else keeps the previous speaker', () => {
    expect(
      loudest(
        [
          { peerId: 'a', level: 0.3 },
          { peerId: 'b', level: 0.5 },
        ],
        null,
      ),
    ).toBe('b');
    expect(
      loudest(
        [
          { peerId: 'a', level: 0.001 },
          { peerId: 'b', level: 0.0 },
        ],
        'a',
      ),
    ).toBe('a');
    expect(loudest([], null)).toBeNull();
  });
});

describe('layersFor', () => {
  it('receives lower simulcast layers as the grid fills, and half the frame rate once the tiles are small', () => {
    expect([0, 1, 2, 4, 5, 9].map((n) => layersFor(n).spatialLayer)).toEqual([2, 2, 1, 1, 0, 0]);
    expect([0, 1, 2, 4, 5, 9].map((n) => layersFor(n).temporalLayer)).toEqual([2, 2, 2, 2, 1, 1]);
  });
});
