import type { Role } from '@quorum/domain';
import { lazy, Suspense } from 'react';
import { PageTitle } from '../PageTitle';
import { errorCode, errorMessage } from '../errors';
import { LiveContext, useOrgLiveFeed } from '../live';
import { Link, ORG_TABS, type OrgTab } from '../router';
import { trpc } from '../trpc';
import { LoadError, Loading } from '../ui';
import { ActivityPage } from './ActivityPage';
import { ApiKeysPage } from './ApiKeysPage';
import { MeetingsPage } from './MeetingsPage';
import { MembersPage } from './MembersPage';
import { OrgContext, permission, useOrgQuery } from './org-context';
import { PlanPage, planLabel, statusLabel } from './PlanPage';
import { SeatsPage } from './SeatsPage';
import { WebhooksPage } from './webhooks/WebhooksPage';

// The usage page brings its chart library: loaded only when the page opens.
const UsagePage = lazy(() => import('./usage/UsagePage').then((m) => ({ default: m.UsagePage })));

const TAB_TITLES: Record<OrgTab, string> = {
  seats: 'Seats',
  members: 'Members',
  meetings: 'Meetings',
  plan: 'Plan',
  usage: 'Usage & billing',
  'api-keys': 'API keys',
  webhooks: 'Webhooks',
  activity: 'Activity',
};

/**
 * Whether the organization's navigation offers `tab` to `role`. Usage & billing is listed only
 * for the roles that may read usage, Webhooks for those that may read endpoints; anyone else
 * who opens its address is told why instead.
 */
export function tabVisible(tab: OrgTab, role: Role): boolean {
  if (tab === 'usage') return permission(role, 'usage.summary').allowed;
  if (tab === 'webhooks') return permission(role, 'webhooks.list').allowed;
  return true;
}

export function OrgPage({ orgId, tab }: { orgId: string; tab: OrgTab }) {
  const org = useOrgQuery('org.get', orgId, (p) => trpc.org.get.query({ orgId, ...p }));
  const live = useOrgLiveFeed(orgId, org.data ? permission(org.data.yourRole, 'events.list').allowed : false);

  if (org.isPending) return <Loading what="the organization" />;
  if (org.isError) {
    if (errorCode(org.error) === 'NOT_FOUND' || errorCode(org.error) === 'BAD_REQUEST') {
      return (
        <PageTitle title="Organization not found">
          <p>
            This organization does not exist, or you are not a member of it.{' '}
            <Link to="/">Go to your organizations</Link>.
          </p>
        </PageTitle>
      );
    }
    return <LoadError error={errorMessage(org.error)} retry={() => void org.refetch()} />;
  }

  const o = org.data;
  return (
    <OrgContext.Provider value={o}>
      <LiveContext.Provider value={live}>
        <div className="org-head">
          <p className="org-name">
            <strong>{o.name}</strong>
            <span className="badge">{planLabel(o.plan)}</span>
            <span className="badge" data-status={o.status}>
              {statusLabel(o.status)}
              {o.trialDaysLeft !== null ? ` · ${o.trialDaysLeft} day${o.trialDaysLeft === 1 ? '' : 's'} left` : ''}
            </span>
          </p>
          <nav aria-label="Organization" className="tabs">
            <ul>
              {ORG_TABS.filter((t) => tabVisible(t, o.yourRole)).map((t) => (
                <li key={t}>
                  <Link to={`/orgs/${orgId}/${t}`} aria-current={t === tab ? 'page' : undefined}>
                    {TAB_TITLES[t]}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        </div>
        <PageTitle title={`${TAB_TITLES[tab]}`}>
          {tab === 'seats' ? <SeatsPage /> : null}
          {tab === 'members' ? <MembersPage /> : null}
          {tab === 'meetings' ? <MeetingsPage /> : null}
          {tab === 'plan' ? <PlanPage /> : null}
          {tab === 'usage' ? (
            <Suspense fallback={<Loading what="usage" />}>
              <UsagePage />
            </Suspense>
          ) : null}
          {tab === 'api-keys' ? <ApiKeysPage /> : null}
          {tab === 'webhooks' ? <WebhooksPage /> : null}
          {tab === 'activity' ? <ActivityPage /> : null}
        </PageTitle>
      </LiveContext.Provider>
    </OrgContext.Provider>
  );
}
