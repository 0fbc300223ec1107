/**
 * One delivery's attempt log (`webhookDeliveries.attempts`): for each attempt when it went out,
 * what came back (a status or why none did), how long it took, the request headers sent and an
 * excerpt of the answer's body. Keyed by the attempt count the list shows, so a new attempt
 * seen in the list reloads it.
 */
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../errors';
import { minPositionInput, useOrgPosition } from '../../positions';
import { trpc, type RouterOutputs } from '../../trpc';
import { LoadError, Loading } from '../../ui';
import { useOrg } from '../org-context';
import { deliveryTitle, formatInstant, type DeliveryRow } from './delivery-view';

type Attempt = RouterOutputs['webhookDeliveries']['attempts']['attempts'][number];

/**
 * The delivery engine keeps this much of an answer's body (RESPONSE_EXCERPT_BYTES in
 * packages/webhooks); the attempt row does not say whether it cut, so a body this long (less
 * the few bytes a split character may lose) is shown as cut.
 */
const EXCERPT_BYTES = 4_096;
const looksTruncated = (body: string) => new TextEncoder().encode(body).length >= EXCERPT_BYTES - 3;

export function DeliveryAttempts({ delivery, onClose }: { delivery: DeliveryRow; onClose: () => void }) {
  const org = useOrg();
  const position = useOrgPosition(org.orgId);
  const attempts = useQuery({
    queryKey: ['webhookDeliveries.attempts', org.orgId, delivery.deliveryId, delivery.attempts, position],
    queryFn: () =>
      trpc.webhookDeliveries.attempts.query({
        orgId: org.orgId,
        deliveryId: delivery.deliveryId,
        ...minPositionInput(position),
      }),
    placeholderData: (previous) => previous,
  });
  const title = deliveryTitle(delivery);

  return (
    <div
      className="delivery-attempts"
      role="region"
      aria-label={`Attempts of ${title}`}
      data-testid="delivery-attempts"
    >
      <div className="section-head">
        <h5>Attempts of {title}</h5>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      {attempts.isPending ? <Loading what="attempts" /> : null}
      {attempts.isError ? (
        <LoadError error={errorMessage(attempts.error)} retry={() => void attempts.refetch()} />
      ) : null}
      {attempts.data && attempts.data.attempts.length === 0 ? <p>Not attempted yet.</p> : null}
      {attempts.data && attempts.data.attempts.length > 0 ? (
        <ol className="attempt-list">
          {attempts.data.attempts.map((a) => (
            <AttemptItem key={a.n} attempt={a} />
          ))}
        </ol>
      ) : null}
    </div>
  );
}

function AttemptItem({ attempt }: { attempt: Attempt }) {
  const ok = attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
  const outcome =
    attempt.status !== null
      ? `Answered ${attempt.status}`
      : `No answer (${attempt.errorClass ?? 'error'}): ${attempt.errorMessage ?? 'unknown'}`;
  return (
    <li className="attempt" data-testid="attempt" data-ok={ok}>
      <p className="attempt-head">
        <strong>Attempt {attempt.n}</strong> <span>{formatInstant(attempt.at)}</span>{' '}
        <span className="badge" data-status={ok ? 'active' : 'past_due'}>
          {outcome}
        </span>{' '}
        <span className="hint">in {Math.round(attempt.durationMs)} ms</span>
      </p>
      <details>
        <summary>Request headers</summary>
        <pre className="excerpt" aria-label={`Request headers of attempt ${attempt.n}`}>
          {Object.entries(attempt.requestHeaders)
            .map(([name, value]) => `${name}: ${value}`)
            .join('\n')}
        </pre>
      </details>
      {attempt.responseBody ? (
        <>
          <p className="hint">
            Response body
            {looksTruncated(attempt.responseBody) ? ' (truncated: only its first 4 KiB are kept)' : ''}
          </p>
          <pre className="excerpt" aria-label={`Response body of attempt ${attempt.n}`}>
            {attempt.responseBody}
            {looksTruncated(attempt.responseBody) ? '\n…' : ''}
          </pre>
        </>
      ) : attempt.status !== null ? (
        <p className="hint">The response had no body.</p>
      ) : null}
    </li>
  );
}
