import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { errorMessage } from './errors';
import { AuthPage } from './pages/AuthPage';
import { FinancePage } from './pages/finance/FinancePage';
import { InvitePage } from './pages/InvitePage';
import { VerifyEmailBanner, VerifyEmailPage } from './pages/VerifyEmailPage';
import { NewOrgPage } from './pages/NewOrgPage';
import { OrgPage } from './pages/OrgPage';
import { minPositionInput, useLatestPosition } from './positions';
import { Link, matchRoute, navigate, Redirect, useLocation, type Route } from './router';
import { nextPath, useMe, useSessionCache, type Me } from './session';
import { useAction } from './status';
import { trpc } from './trpc';
import { PageTitle } from './PageTitle';
import { LoadError, Loading, roleLabel } from './ui';

// The meeting room brings mediasoup-client and WebRTC code: loaded only when a room opens.
const MeetingRoomPage = lazy(() =>
  import('./pages/meeting/MeetingRoomPage').then((m) => ({ default: m.MeetingRoomPage })),
);

export function App() {
  const { pathname, search, href } = useLocation();
  const route = matchRoute(pathname);
  const me = useMe();

  if (me.isPending) return <Loading what="your session" />;
  if (me.isError) return <LoadError error={errorMessage(me.error)} retry={() => void me.refetch()} />;
  const user = me.data;

  if (route.name === 'login' || route.name === 'signup') {
    if (user) return <Redirect to={nextPath(search)} />;
    return <AuthPage mode={route.name} next={nextPath(search)} />;
  }
  // A verification link works without a session: the token is the proof.
  if (!user && route.name === 'verifyEmail') return <VerifyEmailPage token={route.token} />;
  if (!user) return <Redirect to={`/login?next=${encodeURIComponent(href)}`} />;
  return <Shell user={user} route={route} />;
}

function useOrgs() {
  const minPosition = useLatestPosition();
  return useQuery({
    queryKey: ['org.list', minPosition],
    queryFn: () => trpc.org.list.query(minPositionInput(minPosition)),
    placeholderData: (previous) => previous,
  });
}

function Shell({ user, route }: { user: Me; route: Route }) {
  const orgs = useOrgs();
  const session = useSessionCache();
  const logout = useAction(() => trpc.auth.logout.mutate(), {
    progress: () => 'Logging out…',
    success: () => 'Logged out.',
    onSuccess: () => {
      session.signedOut();
      navigate('/login');
    },
  });
  const currentOrgId = route.name === 'org' || route.name === 'meeting' ? route.orgId : undefined;

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="Quorum home">
          <span className="brand-mark" aria-hidden="true" />
          Quorum
        </Link>
        <div className="org-switcher">
          <label htmlFor="org-switcher">Organization</label>
          <select
            id="org-switcher"
            value={currentOrgId ?? ''}
            onChange={(e) =>
              navigate(
                e.target.value === '__new'
                  ? '/orgs/new'
                  : `/orgs/${e.target.value}/${route.name === 'org' ? route.tab : route.name === 'meeting' ? 'meetings' : 'seats'}`,
              )
            }
          >
            {currentOrgId ? null : <option value="">Choose…</option>}
            {(orgs.data ?? []).map((o) => (
              <option key={o.orgId} value={o.orgId}>
                {o.name} ({roleLabel(o.role)})
              </option>
            ))}
            <option value="__new">+ New organization…</option>
          </select>
        </div>
        {user.operator ? (
          <nav aria-label="Quorum operators" className="operator-nav">
            <Link to="/finance" aria-current={route.name === 'finance' ? 'page' : undefined}>
              Finance
            </Link>
          </nav>
        ) : null}
        <div className="user-menu">
          <span className="user-name" title={user.email}>
            {user.name}
          </span>
          <button
            type="button"
            className="secondary"
            onClick={() => logout.mutate(undefined)}
            disabled={logout.isPending}
          >
            {logout.isPending ? 'Logging out…' : 'Log out'}
          </button>
        </div>
      </header>
      {user.emailVerified || route.name === 'verifyEmail' ? null : <VerifyEmailBanner email={user.email} />}
      <main id="main" tabIndex={-1} className={route.name === 'meeting' ? 'wide' : undefined}>
        <RouteView route={route} orgs={orgs} />
      </main>
    </div>
  );
}

function RouteView({ route, orgs }: { route: Route; orgs: ReturnType<typeof useOrgs> }) {
  switch (route.name) {
    case 'home':
      if (orgs.isPending) return <Loading what="your organizations" />;
      if (orgs.isError) return <LoadError error={errorMessage(orgs.error)} retry={() => void orgs.refetch()} />;
      return <Redirect to={orgs.data[0] ? `/orgs/${orgs.data[0].orgId}/seats` : '/orgs/new'} />;
    case 'newOrg':
      return <NewOrgPage first={orgs.data?.length === 0} />;
    case 'org':
      return <OrgPage key={route.orgId} orgId={route.orgId} tab={route.tab} />;
    case 'meeting':
      return (
        <Suspense fallback={<Loading what="the meeting room" />}>
          <MeetingRoomPage key={`${route.orgId}/${route.sessionId}`} orgId={route.orgId} sessionId={route.sessionId} />
        </Suspense>
      );
    case 'invite':
      return <InvitePage orgId={route.orgId} invitationId={route.invitationId} token={route.token} />;
    case 'verifyEmail':
      return <VerifyEmailPage token={route.token} />;
    case 'finance':
      return <FinancePage />;
    case 'login':
    case 'signup':
    case 'notFound':
      return (
        <PageTitle title="Page not found">
          <p>
            There is nothing at this address. <Link to="/">Go to your organizations</Link>.
          </p>
        </PageTitle>
      );
  }
}
