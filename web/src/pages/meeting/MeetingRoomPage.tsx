/**
 * The meeting room at its shareable address (`/orgs/:orgId/meetings/:sessionId`): a device
 * check before joining, then the room. The page owns the local media (kept across rejoins and
 * for "Join again") and one {@link MeetingClient} per join; the client is exposed to tests and
 * the join-latency benchmark as `window.__quorumMeeting`.
 */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { PageTitle } from '../../PageTitle';
import { errorCode, errorMessage, errorReason } from '../../errors';
import { LocalMedia } from '../../meeting/local-media';
import { warmUpMediaEngine } from '../../meeting/media-engine';
import { TicketRefused, type JoinTicket } from '../../meeting/join-ticket';
import { MeetingClient } from '../../meeting/meeting-client';
import { refusalHint } from '../../meeting/refusal';
import type { Ended } from '../../meeting/room-state';
import { Link } from '../../router';
import { useMe } from '../../session';
import { trpc } from '../../trpc';
import { LoadError, Loading, Select } from '../../ui';
import { Room } from './Room';
import { VideoView } from './VideoView';

declare global {
  interface Window {
    /** The current meeting client's debug handle (tests, benchmarks). */
    __quorumMeeting?: ReturnType<MeetingClient['debugHandle']>;
  }
}

/** Refusals of `meetings.join` that asking again will not change. */
const REFUSALS = new Set(['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'PRECONDITION_FAILED']);

export function MeetingRoomPage({ orgId, sessionId }: { orgId: string; sessionId: string }) {
  const meeting = useQuery({
    queryKey: ['meetings.get', orgId, sessionId],
    queryFn: () => trpc.meetings.get.query({ orgId, sessionId }),
  });
  const me = useMe();
  const [media] = useState(() => new LocalMedia());
  const [client, setClient] = useState<MeetingClient | null>(null);

  useEffect(() => {
    void media.start();
    // While the person looks at the device check, probe what the browser can send and receive,
    // so that joining does not wait for it.
    warmUpMediaEngine();
    return () => media.stop();
  }, [media]);

  useEffect(() => {
    if (!client) return;
    window.__quorumMeeting = client.debugHandle();
    // Closing the tab unmounts nothing: say goodbye so the others see us leave now, not after the grace period.
    const hide = () => client.dispose();
    window.addEventListener('pagehide', hide);
    return () => {
      window.removeEventListener('pagehide', hide);
      client.dispose();
      if (window.__quorumMeeting) delete window.__quorumMeeting;
    };
  }, [client]);

  const back = `/orgs/${orgId}/meetings`;
  if (meeting.isPending) return <Loading what="the meeting" />;
  if (meeting.isError) {
    if (
      errorCode(meeting.error) === 'NOT_FOUND' ||
      errorCode(meeting.error) === 'BAD_REQUEST' ||
      errorCode(meeting.error) === 'FORBIDDEN'
    ) {
      return (
        <PageTitle title="Meeting not found">
          <p>
            This meeting does not exist, or you are not a member of its organization.{' '}
            <Link to="/">Go to your organizations</Link>.
          </p>
        </PageTitle>
      );
    }
    return <LoadError error={errorMessage(meeting.error)} retry={() => void meeting.refetch()} />;
  }
  const m = meeting.data;
  const displayName = me.data?.name ?? me.data?.email ?? 'Guest';

  const join = () => {
    const getTicket = async (): Promise<JoinTicket> => {
      try {
        return await trpc.meetings.join.mutate({ orgId, sessionId, displayName });
      } catch (err) {
        if (REFUSALS.has(errorCode(err) ?? '')) throw new TicketRefused(errorMessage(err), errorReason(err));
        throw err;
      }
    };
    const next = new MeetingClient({ meeting: { orgId, sessionId }, getTicket, media });
    setClient(next);
    void next.join();
  };

  if (client)
    return <ClientView client={client} orgId={orgId} title={m.title} back={back} onJoinAgain={join} media={media} />;
  if (m.status === 'ended') {
    return (
      <PageTitle title={m.title}>
        <p role="alert" className="notice" data-testid="meeting-ended">
          This meeting has ended.
        </p>
        <p>
          <Link to={back}>Back to meetings</Link>
        </p>
      </PageTitle>
    );
  }
  return <PreJoin orgId={orgId} title={m.title} media={media} onJoin={join} back={back} refusal={null} />;
}

/** The room while the client lives; how it ended afterwards, with a way back in when that makes sense. */
function ClientView({
  client,
  orgId,
  title,
  back,
  media,
  onJoinAgain,
}: {
  client: MeetingClient;
  orgId: string;
  title: string;
  back: string;
  media: LocalMedia;
  onJoinAgain: () => void;
}) {
  const state = useSyncExternalStore(client.subscribe, client.getState);
  if (state.phase === 'ended' && state.ended) {
    if (state.ended.reason === 'refused')
      return (
        <PreJoin orgId={orgId} title={title} media={media} onJoin={onJoinAgain} back={back} refusal={state.ended} />
      );
    const final =
      state.ended.reason === 'removed' || state.ended.reason === 'ended_by_host' || state.ended.reason === 'empty';
    return (
      <PageTitle title={title}>
        <div className="card narrow stack" data-testid="meeting-over" data-reason={state.ended.reason}>
          <p role="alert" className={final && state.ended.reason === 'removed' ? 'form-error' : 'notice'}>
            {state.ended.message}
          </p>
          <p className="actions">
            {final ? null : (
              <button type="button" className="primary" onClick={onJoinAgain}>
                Join again
              </button>
            )}
            <Link to={back}>Back to meetings</Link>
          </p>
        </div>
      </PageTitle>
    );
  }
  return <Room client={client} state={state} title={title} media={media} />;
}

/** The device check: camera preview, microphone and camera toggles, pickers, and Join. */
function PreJoin({
  orgId,
  title,
  media,
  onJoin,
  back,
  refusal,
}: {
  orgId: string;
  title: string;
  media: LocalMedia;
  onJoin: () => void;
  back: string;
  refusal: Ended | null;
}) {
  const m = useSyncExternalStore(media.subscribe, media.getSnapshot);
  return (
    <PageTitle title={title}>
      <section className="card prejoin" aria-labelledby="prejoin-heading" data-testid="prejoin">
        <h2 id="prejoin-heading">Check your camera and microphone</h2>
        {refusal ? <Refusal orgId={orgId} refusal={refusal} /> : null}
        <div className="prejoin-body">
          <div className="preview">
            {m.camera && m.cameraOn ? (
              <VideoView track={m.camera} mirrored label="Your camera preview" />
            ) : (
              <div className="preview-off">{m.starting ? 'Starting your camera…' : 'Camera off'}</div>
            )}
          </div>
          <div className="prejoin-controls">
            <div className="toggles">
              <button
                type="button"
                data-off={!(m.micOn && m.mic)}
                onClick={() => media.setOn('mic', !m.micOn)}
                disabled={!m.mic}
              >
                {m.micOn && m.mic ? 'Turn microphone off' : 'Turn microphone on'}
              </button>
              <button
                type="button"
                data-off={!(m.cameraOn && m.camera)}
                onClick={() => media.setOn('camera', !m.cameraOn)}
                disabled={!m.camera}
              >
                {m.cameraOn && m.camera ? 'Turn camera off' : 'Turn camera on'}
              </button>
            </div>
            {m.devices.audio.length > 1 ? (
              <Select
                label="Microphone"
                value={m.audioDeviceId ?? ''}
                onChange={(e) => void media.choose('audio', e.target.value)}
                options={m.devices.audio.map((d) => ({ value: d.deviceId, label: d.label }))}
              />
            ) : null}
            {m.devices.video.length > 1 ? (
              <Select
                label="Camera"
                value={m.videoDeviceId ?? ''}
                onChange={(e) => void media.choose('video', e.target.value)}
                options={m.devices.video.map((d) => ({ value: d.deviceId, label: d.label }))}
              />
            ) : null}
            {m.error ? (
              <p role="alert" className="form-error">
                {m.error} You can still join and see and hear the others.
              </p>
            ) : null}
            <p className="actions">
              <button type="button" className="primary" onClick={onJoin} disabled={m.starting}>
                Join meeting
              </button>
              <Link to={back}>Back to meetings</Link>
            </p>
          </div>
        </div>
      </section>
    </PageTitle>
  );
}

/** A refused join in the server's words, and what to do about it when the person can act. */
function Refusal({ orgId, refusal }: { orgId: string; refusal: Ended }) {
  const planRelated = refusalHint(refusal.refusal, orgId, undefined) !== null;
  // The caller's role decides between "upgrade" and "ask someone who can"; read only when it matters.
  const org = useQuery({
    queryKey: ['org.get', orgId],
    queryFn: () => trpc.org.get.query({ orgId }),
    enabled: planRelated,
  });
  const hint = refusalHint(refusal.refusal, orgId, org.data?.yourRole);
  return (
    <div role="alert" className="form-error" data-testid="join-refused" data-reason={refusal.refusal}>
      <p>{refusal.message}</p>
      {hint ? (
        <p data-testid="join-refused-hint">
          {hint.kind === 'upgrade' ? (
            <Link to={hint.planPath}>{hint.text}</Link>
          ) : (
            <>
              {hint.text} <Link to={hint.planPath}>See what each plan includes</Link>.
            </>
          )}
        </p>
      ) : null}
    </div>
  );
}
