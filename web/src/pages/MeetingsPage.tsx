import { CreateMeetingInputSchema } from '@quorum/domain';
import { useState, type FormEvent } from 'react';
import { errorMessage } from '../errors';
import { validate, type FieldErrors } from '../forms';
import { formatDuration, meetingDuration } from '../meeting/format';
import { Link, navigate } from '../router';
import { useAction } from '../status';
import { trpc, type RouterOutputs } from '../trpc';
import { Field, formatDate, FormError, LoadError, Loading, NotAllowed, SubmitButton } from '../ui';
import { permission, useOrg, useOrgQuery } from './org-context';

type MeetingRow = RouterOutputs['meetings']['list']['meetings'][number];

export function meetingPath(orgId: string, sessionId: string): string {
  return `/orgs/${orgId}/meetings/${sessionId}`;
}

const SECTIONS = [
  { status: 'live', title: 'Live now', empty: 'Nobody is in a meeting right now.' },
  { status: 'scheduled', title: 'Scheduled', empty: 'No meeting is waiting to start.' },
  { status: 'ended', title: 'Past meetings', empty: 'No meeting has ended yet.' },
] as const;

export function MeetingsPage() {
  const org = useOrg();
  // Members without the event log get no live feed; the list refreshes by itself instead.
  const meetings = useOrgQuery(
    'meetings.list',
    org.orgId,
    (p) => trpc.meetings.list.query({ orgId: org.orgId, ...p }),
    {
      refetchInterval: 15_000,
    },
  );
  const canCreate = permission(org.yourRole, 'meetings.create', 'start meetings');
  const now = Date.now();

  return (
    <div className="stack" aria-busy={meetings.isPlaceholderData || undefined}>
      <section className="card" aria-labelledby="start-meeting">
        <h2 id="start-meeting">Start a meeting</h2>
        {canCreate.allowed ? <StartMeetingForm orgId={org.orgId} /> : <NotAllowed>{canCreate.reason}</NotAllowed>}
      </section>
      {meetings.isPending ? <Loading what="meetings" /> : null}
      {meetings.isError ? (
        <LoadError error={errorMessage(meetings.error)} retry={() => void meetings.refetch()} />
      ) : null}
      {meetings.data
        ? SECTIONS.map((section) => {
            const rows = meetings.data.meetings.filter((m) => m.status === section.status);
            return (
              <section key={section.status} className="card" aria-labelledby={`meetings-${section.status}`}>
                <div className="section-head">
                  <h2 id={`meetings-${section.status}`}>{section.title}</h2>
                  {section.status === 'live' ? (
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => void meetings.refetch()}
                      disabled={meetings.isFetching}
                    >
                      {meetings.isFetching ? 'Refreshing…' : 'Refresh'}
                    </button>
                  ) : null}
                </div>
                {rows.length === 0 ? (
                  <p className="hint">{section.empty}</p>
                ) : (
                  <MeetingTable orgId={org.orgId} rows={rows} now={now} />
                )}
              </section>
            );
          })
        : null}
    </div>
  );
}

function MeetingTable({ orgId, rows, now }: { orgId: string; rows: MeetingRow[]; now: number }) {
  const ended = rows[0]?.status === 'ended';
  return (
    <div className="table-wrap">
      <table data-testid="meeting-list">
        <thead>
          <tr>
            <th scope="col">Title</th>
            <th scope="col">{ended ? 'Ended' : 'Started'}</th>
            <th scope="col">Duration</th>
            <th scope="col">{ended ? 'People' : 'In the room'}</th>
            {ended ? null : <th scope="col">Action</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((m) => {
            const duration = meetingDuration(m, now);
            return (
              <tr key={m.sessionId} data-testid={`meeting-row-${m.title}`} data-status={m.status}>
                <td>
                  {m.title}
                  {m.locked && !ended ? <span className="badge">Locked</span> : null}
                </td>
                <td>{formatDate(ended ? m.endedAt : (m.startedAt ?? m.scheduledFor ?? m.createdAt))}</td>
                <td data-testid="meeting-duration">{duration === null ? '—' : formatDuration(duration)}</td>
                <td>{ended ? m.distinctParticipants : m.participantsNow}</td>
                {ended ? null : (
                  <td>
                    <Link to={meetingPath(orgId, m.sessionId)} className="button-link" aria-label={`Join ${m.title}`}>
                      Join
                    </Link>
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function StartMeetingForm({ orgId }: { orgId: string }) {
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useAction((input: { orgId: string; title: string }) => trpc.meetings.create.mutate(input), {
    orgId,
    progress: (i) => `Starting ${i.title}…`,
    success: (_, i) => `Started ${i.title}.`,
    onSuccess: (out) => navigate(meetingPath(orgId, out.sessionId)),
  });
  const fieldErrors = { ...create.fieldErrors, ...errors };

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const title = String(new FormData(e.currentTarget).get('title') ?? '');
    const v = validate(CreateMeetingInputSchema, { orgId, title });
    setErrors(v.ok ? {} : v.errors);
    if (v.ok) create.mutate({ orgId, title: v.data.title });
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Start a meeting" className="inline-form">
      <Field
        label="Meeting title"
        name="title"
        maxLength={200}
        placeholder="Weekly sync"
        error={fieldErrors.title}
        hint="An instant meeting: you join it right away and share its address."
      />
      <FormError text={create.errorText} />
      <SubmitButton pending={create.isPending} pendingText="Starting…">
        Start meeting
      </SubmitButton>
    </form>
  );
}
