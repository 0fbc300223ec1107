/**
 * The typed tRPC client of the web app. Queries and mutations go over HTTP (batched);
 * subscriptions (`events.live`) over SSE. The session lives in HttpOnly cookies set by the
 * gateway, so nothing here holds a token: when the access cookie has expired, a call answers
 * 401 and the client renews the session once with the refresh cookie, then retries.
 */
import type { AppRouter } from '@quorum/gateway/router';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type QuorumError = TRPCClientError<AppRouter>;

const URL_BASE = '/trpc';
/** Calls that must not trigger a refresh: they are how a session starts or ends. */
const SESSION_CALLS = /\/trpc\/auth\.(login|signUp|refresh|logout)\b/;

let refreshing: Promise<boolean> | undefined;

/** Renews the session from the refresh cookie; one request at a time for the whole tab. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch(`${URL_BASE}/auth.refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    credentials: 'same-origin',
  })
    .then((res) => res.ok)
    // A network failure here means the session could not be renewed; the caller shows the
    // original 401 (log in again) rather than a second, less useful error.
    .catch((err: unknown) => {
      console.warn('session refresh failed', err);
      return false;
    })
    .finally(() => {
      refreshing = undefined;
    });
  return refreshing;
}

const fetchWithRefresh: typeof fetch = async (input, init) => {
  const res = await fetch(input, { ...init, credentials: 'same-origin' });
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  // A batch answers 401 only when every call in it did; the cookie is the same for all of them.
  if (res.status !== 401 || SESSION_CALLS.test(url)) return res;
  if (!(await refreshSession())) return res;
  return fetch(input, { ...init, credentials: 'same-origin' });
};

export const trpc = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink({ url: URL_BASE, eventSourceOptions: () => ({ withCredentials: true }) }),
      // The gateway refuses batches of more than 50 calls (MAX_BATCH_CALLS).
      false: httpBatchLink({ url: URL_BASE, fetch: fetchWithRefresh, maxItems: 50 }),
    }),
  ],
});

export function isQuorumError(err: unknown): err is QuorumError {
  return err instanceof TRPCClientError;
}
