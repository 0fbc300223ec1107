/** The signed-in user, from `auth.me` (the session cookie survives a reload). */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { errorCode } from './errors';
import { trpc, type RouterOutputs } from './trpc';

export type Me = RouterOutputs['auth']['me'];
export const ME_KEY = ['auth.me'] as const;

export function useMe() {
  return useQuery({
    queryKey: ME_KEY,
    queryFn: async (): Promise<Me | null> => {
      try {
        return await trpc.auth.me.query();
      } catch (err) {
        // No session (or it could not be renewed): the app shows the login page.
        if (errorCode(err) === 'UNAUTHORIZED') return null;
        throw err;
      }
    },
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
}

/** After login or sign-up: remember the user; after logout: forget everything cached. */
export function useSessionCache() {
  const queryClient = useQueryClient();
  return {
    signedIn(user: Omit<Me, 'operator'>) {
      queryClient.clear();
      // A login answers who the user is, not whether they are an operator: until `auth.me`
      // says so the navigation offers no Finance link, and the finance calls check regardless.
      queryClient.setQueryData(ME_KEY, { ...user, operator: false });
      void queryClient.invalidateQueries({ queryKey: ME_KEY });
    },
    signedOut() {
      queryClient.clear();
      queryClient.setQueryData(ME_KEY, null);
    },
  };
}

/** Where to go after logging in: `?next=` when it is a path of this app, else home. */
export function nextPath(search: URLSearchParams): string {
  const next = search.get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}
