/**
 * Inside the meeting: the tiles (everyone's camera and shared screens, the active speaker
 * outlined), the controls (microphone, camera, screen, leave), the participant list and, for
 * those who may moderate, the host controls. Host controls go through the gateway
 * (`meetings.mute|remove|lock|unlock|end`); their effect comes back as notifications.
 */
import type { MediaSource } from '@quorum/signaling';
import { useSyncExternalStore } from 'react';
import { PageTitle } from '../../PageTitle';
import { whoIsHere } from '../../meeting/format';
import type { LocalMedia } from '../../meeting/local-media';
import type { MeetingClient, Track } from '../../meeting/meeting-client';
import { tilesOf, type Peer, type RoomState } from '../../meeting/room-state';
import { useAction, useAnnounce } from '../../status';
import { trpc } from '../../trpc';
import { ConfirmAction } from '../../ui';
import { AudioSink, VideoView } from './VideoView';

const MODE_LABELS = { p2p: 'Peer-to-peer', sfu: 'Through the SFU' } as const;

export function Room({
  client,
  state,
  title,
  media,
}: {
  client: MeetingClient;
  state: RoomState<Track>;
  title: string;
  media: LocalMedia;
}) {
  const local = useSyncExternalStore(media.subscribe, media.getSnapshot);
  const announce = useAnnounce();
  const names = new Map(state.peers.map((p) => [p.peerId, p.displayName]));
  const tiles = tilesOf(state);
  const audio = state.remote.filter((m) => m.kind === 'audio');

  return (
    <PageTitle title={title}>
      <div className="meeting-room" data-testid="meeting-room" data-phase={state.phase} data-mode={state.mode ?? ''}>
        <div className="room-status">
          <span className="badge" data-testid="meeting-mode">
            {state.mode ? MODE_LABELS[state.mode] : 'Connecting'}
          </span>
          {state.locked ? (
            <span className="badge" data-testid="meeting-locked">
              Locked
            </span>
          ) : null}
          <span role="status" aria-live="polite" className="hint" data-testid="connection-state">
            {state.phase === 'joining'
              ? 'Joining…'
              : state.phase === 'reconnecting'
                ? 'Connection lost; reconnecting…'
                : whoIsHere(state.peers.map((p) => p.displayName))}
          </span>
        </div>
        {state.notice ? (
          <p role="alert" className="callout" data-testid="meeting-notice">
            {state.notice}
          </p>
        ) : null}

        <div className="room-body">
          <section className="tile-grid" aria-label="Participants' video" data-count={tiles.length + 1}>
            <figure
              className="tile"
              data-testid="tile"
              data-peer-id={state.selfId ?? ''}
              data-source="camera"
              data-local="true"
              data-speaking={state.activeSpeaker !== null && state.activeSpeaker === state.selfId}
            >
              {local.camera && state.local.camera ? (
                <VideoView track={local.camera} mirrored label="Your camera" />
              ) : (
                <Avatar name="You" />
              )}
              <figcaption>You{!state.local.mic ? <MutedMark /> : null}</figcaption>
            </figure>
            {local.screen ? (
              <figure
                className="tile"
                data-testid="tile"
                data-peer-id={state.selfId ?? ''}
                data-source="screen"
                data-local="true"
              >
                <VideoView track={local.screen} label="Your shared screen" />
                <figcaption>Your screen</figcaption>
              </figure>
            ) : null}
            {tiles.map((tile) => {
              const name = names.get(tile.peerId) ?? 'Someone';
              const peer = state.peers.find((p) => p.peerId === tile.peerId);
              const showVideo = tile.media && !tile.media.paused;
              return (
                <figure
                  key={tile.key}
                  className="tile"
                  data-testid="tile"
                  data-peer-id={tile.peerId}
                  data-source={tile.source}
                  data-speaking={tile.source === 'camera' && state.activeSpeaker === tile.peerId}
                >
                  {tile.media ? (
                    <VideoView
                      track={tile.media.track}
                      label={tile.source === 'screen' ? `${name}'s screen` : `${name}'s camera`}
                      onFirstFrame={() => client.markRemoteFrame()}
                    />
                  ) : null}
                  {!showVideo ? <Avatar name={name} /> : null}
                  <figcaption>
                    {tile.source === 'screen' ? `${name}'s screen` : name}
                    {tile.source === 'camera' && peer && !sends(state, peer.peerId, 'mic') ? <MutedMark /> : null}
                  </figcaption>
                </figure>
              );
            })}
          </section>
          <Participants client={client} state={state} />
        </div>

        <div className="control-bar" role="toolbar" aria-label="Meeting controls">
          <button
            type="button"
            data-off={!state.local.mic}
            disabled={!local.mic}
            onClick={() => void client.setMic(!state.local.mic)}
          >
            {state.local.mic ? 'Mute microphone' : 'Unmute microphone'}
          </button>
          <button
            type="button"
            data-off={!state.local.camera}
            disabled={!local.camera}
            onClick={() => void client.setCamera(!state.local.camera)}
          >
            {state.local.camera ? 'Turn camera off' : 'Turn camera on'}
          </button>
          <button
            type="button"
            onClick={() =>
              client
                .setScreen(!state.local.screen)
                .catch((err: unknown) => announce('error', `Could not share your screen: ${(err as Error).message}`))
            }
          >
            {state.local.screen ? 'Stop sharing' : 'Share screen'}
          </button>
          {state.canModerate ? <MeetingHostControls client={client} state={state} /> : null}
          <button type="button" className="danger" onClick={() => void client.leave()}>
            Leave
          </button>
        </div>
        <div hidden>
          {audio.map((m) => (
            <AudioSink key={m.key} track={m.track} />
          ))}
        </div>
      </div>
    </PageTitle>
  );
}

/** Whether `peerId` is sending `source` now (a paused producer or muted track is not). */
function sends(state: RoomState<Track>, peerId: string, source: MediaSource): boolean {
  if (state.mode === 'sfu') return state.producers.some((p) => p.peerId === peerId && p.source === source && !p.paused);
  return state.remote.some((m) => m.peerId === peerId && m.source === source && !m.paused);
}

function Avatar({ name }: { name: string }) {
  const initials = name
    .split(/[\s@.]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]?.toUpperCase())
    .join('');
  return (
    <div className="avatar" aria-hidden="true">
      {initials || '?'}
    </div>
  );
}

function MutedMark() {
  return (
    <span className="muted-mark" title="Microphone off">
      {' '}
      (muted)
    </span>
  );
}

function meetingRefOf(client: MeetingClient) {
  const { orgId, sessionId } = client.meeting;
  return { orgId, sessionId };
}

function MeetingHostControls({ client, state }: { client: MeetingClient; state: RoomState<Track> }) {
  const ref = meetingRefOf(client);
  const lock = useAction(
    (locked: boolean) => (locked ? trpc.meetings.unlock.mutate(ref) : trpc.meetings.lock.mutate(ref)),
    {
      orgId: ref.orgId,
      progress: (locked) => (locked ? 'Unlocking the meeting…' : 'Locking the meeting…'),
      success: (_, locked) =>
        locked
          ? 'The meeting is unlocked: people with access can join.'
          : 'The meeting is locked: nobody new can join.',
    },
  );
  const end = useAction(() => trpc.meetings.end.mutate(ref), {
    orgId: ref.orgId,
    progress: () => 'Ending the meeting for everyone…',
    success: () => 'Ended the meeting for everyone.',
  });
  return (
    <>
      <button type="button" className="secondary" onClick={() => lock.mutate(state.locked)} disabled={lock.isPending}>
        {state.locked ? 'Unlock meeting' : 'Lock meeting'}
      </button>
      <ConfirmAction
        verb="End meeting"
        verbing="Ending"
        subject="for everyone"
        pending={end.isPending}
        onConfirm={() => end.mutate(undefined)}
      />
    </>
  );
}

function Participants({ client, state }: { client: MeetingClient; state: RoomState<Track> }) {
  return (
    <aside className="participants card" aria-labelledby="participants-heading">
      <h2 id="participants-heading">People ({state.peers.length + 1})</h2>
      <ul className="plain-list" data-testid="participant-list">
        <li data-testid="participant-self">
          <span>You{state.isHost ? <span className="badge">Host</span> : null}</span>
          <span className="hint">
            {state.local.mic ? 'Mic on' : 'Muted'} · {state.local.camera ? 'Camera on' : 'Camera off'}
          </span>
        </li>
        {state.peers.map((peer) => (
          <ParticipantRow key={peer.peerId} client={client} state={state} peer={peer} />
        ))}
      </ul>
    </aside>
  );
}

function ParticipantRow({ client, state, peer }: { client: MeetingClient; state: RoomState<Track>; peer: Peer }) {
  const ref = meetingRefOf(client);
  const name = peer.displayName;
  const mute = useAction(
    (kind: 'audio' | 'video') => trpc.meetings.mute.mutate({ ...ref, participantId: peer.peerId, kind }),
    {
      orgId: ref.orgId,
      progress: (kind) => (kind === 'audio' ? `Muting ${name}…` : `Turning off ${name}'s camera…`),
      success: (_, kind) => (kind === 'audio' ? `Muted ${name}.` : `Turned off ${name}'s camera.`),
    },
  );
  const remove = useAction(() => trpc.meetings.remove.mutate({ ...ref, participantId: peer.peerId }), {
    orgId: ref.orgId,
    progress: () => `Removing ${name}…`,
    success: () => `Removed ${name} from the meeting.`,
  });
  const mic = sends(state, peer.peerId, 'mic');
  const camera = sends(state, peer.peerId, 'camera');
  return (
    <li data-testid={`participant-${name}`} data-peer-id={peer.peerId}>
      <span>
        {name}
        {peer.isHost ? <span className="badge">Host</span> : null}
      </span>
      <span className="hint" data-testid="participant-media">
        {peer.mutedByHost.audio ? 'Muted by the host' : mic ? 'Mic on' : 'Muted'} ·{' '}
        {peer.mutedByHost.video ? 'Camera off by the host' : camera ? 'Camera on' : 'Camera off'}
      </span>
      {state.canModerate ? (
        <span className="confirm">
          <button
            type="button"
            className="secondary"
            onClick={() => mute.mutate('audio')}
            disabled={mute.isPending}
            aria-label={`Mute ${name}`}
          >
            Mute
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => mute.mutate('video')}
            disabled={mute.isPending}
            aria-label={`Turn off ${name}'s camera`}
          >
            Stop video
          </button>
          {/* The host cannot be removed (the decider refuses it); ending the meeting is the way. */}
          {peer.isHost ? null : (
            <ConfirmAction
              verb="Remove"
              verbing="Removing"
              subject={name}
              pending={remove.isPending}
              onConfirm={() => remove.mutate(undefined)}
            />
          )}
        </span>
      ) : null}
    </li>
  );
}
