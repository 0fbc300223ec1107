/** One endpoint: its settings and actions, then (apart) its deliveries. */
import { useState } from 'react';
import { useAction } from '../../status';
import { trpc, type RouterOutputs } from '../../trpc';
import { ConfirmAction, formatDate, FormError, Select } from '../../ui';
import { useOrg } from '../org-context';
import { EndpointDeliveries } from './EndpointDeliveries';
import { EditEndpointForm } from './EndpointForm';
import { eventTypesSummary } from './event-type-picker';
import { SecretBox } from './SecretBox';
import type { EndpointRow } from './WebhooksPage';

const STATUS_WORDS: Record<EndpointRow['status'], string> = {
  enabled: 'Enabled',
  paused: 'Paused',
  disabled: 'Disabled by Quorum',
  deleted: 'Deleted',
};

const DISABLED_WHY: Record<string, string> = {
  gone: 'it answered 410 Gone',
  failing: 'every delivery failed for days',
};

/** How long the previous secret keeps signing after a rotation. */
const OVERLAPS = [
  { value: '0', label: 'No overlap: the old secret stops now' },
  { value: '3600', label: '1 hour' },
  { value: '86400', label: '24 hours' },
  { value: '604800', label: '7 days' },
];

type Ping = RouterOutputs['webhooks']['ping'];

export function EndpointPanel({ endpoint }: { endpoint: EndpointRow }) {
  const org = useOrg();
  const ref = { orgId: org.orgId, endpointId: endpoint.id };
  const [editing, setEditing] = useState(false);
  const [secret, setSecret] = useState<{ secret: string; intro: string } | undefined>();
  const [overlap, setOverlap] = useState('86400');
  const [ping, setPing] = useState<Ping | undefined>();

  const pause = useAction(() => trpc.webhooks.pause.mutate(ref), {
    orgId: org.orgId,
    progress: () => `Pausing ${endpoint.url}…`,
    success: () => 'Paused: deliveries wait until you resume it.',
  });
  const resume = useAction(() => trpc.webhooks.resume.mutate(ref), {
    orgId: org.orgId,
    progress: () => `Resuming ${endpoint.url}…`,
    success: () => 'Resumed: waiting deliveries go out, oldest first.',
  });
  const rotate = useAction((overlapSeconds: number) => trpc.webhooks.rotateSecret.mutate({ ...ref, overlapSeconds }), {
    orgId: org.orgId,
    progress: () => 'Rotating the signing secret…',
    success: () => 'Rotated the signing secret. Copy the new one now.',
    onSuccess: (out) =>
      setSecret({
        secret: out.secret,
        intro: out.previousValidUntil
          ? `The new signing secret. Until ${formatDate(out.previousValidUntil)} deliveries carry signatures from both, so switch your receiver before then.`
          : 'The new signing secret. The previous one no longer signs anything.',
      }),
  });
  const reveal = useAction(() => trpc.webhooks.revealSecret.mutate(ref), {
    orgId: org.orgId,
    progress: () => 'Fetching the signing secret…',
    success: () => 'Here is the current signing secret.',
    onSuccess: (out) =>
      setSecret({
        secret: out.secret,
        intro: `The current signing secret, in use since ${formatDate(out.createdAt)}.`,
      }),
  });
  const remove = useAction(() => trpc.webhooks.delete.mutate(ref), {
    orgId: org.orgId,
    progress: () => `Deleting ${endpoint.url}…`,
    success: () => `Deleted ${endpoint.url}. Nothing more is delivered to it.`,
  });
  const sendPing = useAction(() => trpc.webhooks.ping.mutate(ref), {
    orgId: org.orgId,
    progress: () => `Sending a test ping to ${endpoint.url}…`,
    success: (out) =>
      out.status !== null
        ? `The endpoint answered ${out.status} in ${Math.round(out.durationMs)} ms.`
        : `The ping failed: ${out.message}.`,
    onSuccess: setPing,
  });
  const failed = [pause, resume, rotate, reveal, remove, sendPing].find((a) => a.errorText);

  return (
    <article className="card endpoint" aria-labelledby={`endpoint-${endpoint.id}`} data-testid="endpoint-panel">
      <div className="section-head">
        <h3 id={`endpoint-${endpoint.id}`} className="endpoint-url">
          <code>{endpoint.url}</code>
        </h3>
        <span className="badge" data-status={endpoint.status === 'enabled' ? 'active' : 'past_due'}>
          {STATUS_WORDS[endpoint.status]}
        </span>
      </div>
      {endpoint.description ? <p>{endpoint.description}</p> : null}
      <dl className="facts">
        <dt>Events</dt>
        <dd>{eventTypesSummary(endpoint.eventTypes)}</dd>
        <dt>Created</dt>
        <dd>{formatDate(endpoint.createdAt)}</dd>
        <dt>Secret rotated</dt>
        <dd>{formatDate(endpoint.secretRotatedAt)}</dd>
      </dl>
      {endpoint.status === 'disabled' ? (
        <p className="notice">
          Quorum stopped delivering to it because {DISABLED_WHY[endpoint.disabledReason ?? ''] ?? 'it kept failing'}.
          Resume it once it receives again.
        </p>
      ) : null}

      {editing ? (
        <EditEndpointForm endpoint={endpoint} onDone={() => setEditing(false)} />
      ) : (
        <div className="button-row">
          <button type="button" className="secondary" onClick={() => setEditing(true)}>
            Edit
          </button>
          {endpoint.status === 'enabled' ? (
            <button
              type="button"
              className="secondary"
              onClick={() => pause.mutate(undefined)}
              disabled={pause.isPending}
            >
              Pause
            </button>
          ) : (
            <button
              type="button"
              className="secondary"
              onClick={() => resume.mutate(undefined)}
              disabled={resume.isPending}
            >
              Resume
            </button>
          )}
          <button
            type="button"
            className="secondary"
            onClick={() => sendPing.mutate(undefined)}
            disabled={sendPing.isPending}
          >
            {sendPing.isPending ? 'Sending…' : 'Send test ping'}
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => reveal.mutate(undefined)}
            disabled={reveal.isPending}
          >
            Reveal secret
          </button>
          <ConfirmAction
            verb="Delete"
            verbing="Deleting"
            subject={endpoint.url}
            pending={remove.isPending}
            onConfirm={() => remove.mutate(undefined)}
          />
        </div>
      )}

      <form
        className="inline-form rotate"
        aria-label={`Rotate the secret of ${endpoint.url}`}
        onSubmit={(e) => {
          e.preventDefault();
          rotate.mutate(Number(overlap));
        }}
      >
        <Select
          label="Previous secret keeps signing for"
          name="overlapSeconds"
          value={overlap}
          onChange={(e) => setOverlap(e.currentTarget.value)}
          options={OVERLAPS}
        />
        <button type="submit" className="secondary" disabled={rotate.isPending}>
          {rotate.isPending ? 'Rotating…' : 'Rotate secret'}
        </button>
      </form>

      <FormError text={failed?.errorText} />
      {secret ? <SecretBox secret={secret.secret} intro={secret.intro} onDone={() => setSecret(undefined)} /> : null}
      {ping ? <PingResult ping={ping} /> : null}

      <EndpointDeliveries endpoint={endpoint} />
    </article>
  );
}

function PingResult({ ping }: { ping: Ping }) {
  return (
    <div className={ping.ok ? 'notice' : 'form-error'} role="status" data-testid="ping-result">
      <p>
        {ping.status !== null
          ? `Test ping answered ${ping.status}${ping.ok ? '' : ' (not a 2xx: a delivery would be retried)'} in ${Math.round(ping.durationMs)} ms.`
          : `Test ping failed (${ping.error}): ${ping.message}`}
      </p>
      {ping.body ? (
        <pre className="excerpt" aria-label="Response body">
          {ping.body}
          {ping.truncated ? '\n…' : ''}
        </pre>
      ) : null}
    </div>
  );
}
