/**
 * The organization's webhook endpoints: add one (its secret shown once), and per endpoint its
 * settings, pause and resume, secret rotation and reveal, a test ping, deletion, and its
 * deliveries. Owners and admins only (`webhooks.*`); others are told why.
 */
import { errorMessage } from '../../errors';
import { trpc, type RouterOutputs } from '../../trpc';
import { LoadError, Loading, NotAllowed } from '../../ui';
import { permission, useOrg, useOrgQuery } from '../org-context';
import { CreateEndpointForm } from './EndpointForm';
import { EndpointPanel } from './EndpointPanel';

export type EndpointRow = RouterOutputs['webhooks']['list'][number];

export function WebhooksPage() {
  const org = useOrg();
  const canList = permission(org.yourRole, 'webhooks.list', 'see or manage webhook endpoints');
  const endpoints = useOrgQuery(
    'webhooks.list',
    org.orgId,
    (p) => trpc.webhooks.list.query({ orgId: org.orgId, ...p }),
    { enabled: canList.allowed },
  );

  if (!canList.allowed) return <NotAllowed>{canList.reason}</NotAllowed>;
  return (
    <div className="stack">
      <section className="card" aria-labelledby="add-endpoint">
        <h2 id="add-endpoint">Add a webhook endpoint</h2>
        <p className="hint">
          Quorum POSTs each event to it as a CloudEvents envelope, signed the Standard Webhooks way with the
          endpoint&apos;s secret.
        </p>
        <CreateEndpointForm />
      </section>
      <section aria-labelledby="endpoints-heading" className="stack">
        <h2 id="endpoints-heading">Endpoints</h2>
        {endpoints.isPending ? <Loading what="webhook endpoints" /> : null}
        {endpoints.isError ? (
          <LoadError error={errorMessage(endpoints.error)} retry={() => void endpoints.refetch()} />
        ) : null}
        {endpoints.data && endpoints.data.length === 0 ? <p>No endpoints yet.</p> : null}
        {endpoints.data?.map((endpoint) => (
          <EndpointPanel key={endpoint.id} endpoint={endpoint} />
        ))}
      </section>
    </div>
  );
}
