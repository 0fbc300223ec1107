/** A tiny history router: the app has a handful of routes and needs no more than this. */
import { useEffect, useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const listeners = new Set<() => void>();

function subscribe(listener: () => void) {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

export function navigate(to: string, options: { replace?: boolean } = {}) {
  if (to === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const l of listeners) l();
}

/** The current path and query, re-rendering on navigation. */
export function useLocation(): { pathname: string; search: URLSearchParams; href: string } {
  const href = useSyncExternalStore(subscribe, () => location.pathname + location.search);
  const url = new URL(href, 'http://x');
  return { pathname: url.pathname, search: url.searchParams, href };
}

export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const go = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={go} {...rest} />;
}

export function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

export type Route =
  | { name: 'login' }
  | { name: 'signup' }
  | { name: 'home' }
  | { name: 'newOrg' }
  | { name: 'org'; orgId: string; tab: OrgTab }
  | { name: 'meeting'; orgId: string; sessionId: string }
  | { name: 'invite'; orgId: string; invitationId: string; token: string }
  | { name: 'verifyEmail'; token: string }
  | { name: 'finance' }
  | { name: 'notFound' };

export const ORG_TABS = ['seats', 'members', 'meetings', 'plan', 'usage', 'api-keys', 'webhooks', 'activity'] as const;
export type OrgTab = (typeof ORG_TABS)[number];

export function matchRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean);
  if (parts.length === 0) return { name: 'home' };
  const [a, b, c, d] = parts;
  if (a === 'login' && parts.length === 1) return { name: 'login' };
  if (a === 'signup' && parts.length === 1) return { name: 'signup' };
  if (a === 'orgs' && b === 'new' && parts.length === 2) return { name: 'newOrg' };
  if (a === 'orgs' && b && c === 'meetings' && d && parts.length === 4)
    return { name: 'meeting', orgId: b, sessionId: d };
  if (a === 'orgs' && b && parts.length <= 3) {
    const tab = (c ?? 'seats') as OrgTab;
    return ORG_TABS.includes(tab) ? { name: 'org', orgId: b, tab } : { name: 'notFound' };
  }
  if (a === 'invite' && b && c && d && parts.length === 4)
    return { name: 'invite', orgId: b, invitationId: c, token: d };
  if (a === 'verify-email' && b && parts.length === 2) return { name: 'verifyEmail', token: b };
  if (a === 'finance' && parts.length === 1) return { name: 'finance' };
  return { name: 'notFound' };
}
