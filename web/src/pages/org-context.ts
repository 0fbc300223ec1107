/** The organization a page is about, and reads of it that wait for this tab's own writes. */
import { can, PERMISSIONS, type Action, type Role } from '@quorum/domain';
import { useQuery } from '@tanstack/react-query';
import { createContext, useContext } from 'react';
import { minPositionInput, useOrgPosition } from '../positions';
import type { RouterOutputs } from '../trpc';
import { roleLabel, rolesSentence } from '../ui';

export type Org = RouterOutputs['org']['get'];

export const OrgContext = createContext<Org | undefined>(undefined);

export function useOrg(): Org {
  const org = useContext(OrgContext);
  if (!org) throw new Error('useOrg outside an organization page');
  return org;
}

/**
 * A query of the organization keyed by the newest position this tab wrote to it: after a
 * mutation the key changes and the read waits (`minPosition`) until it includes the write.
 * The previous answer stays on screen meanwhile, marked as updating.
 */
export function useOrgQuery<T>(
  name: string,
  orgId: string,
  fetcher: (input: { minPosition?: string }) => Promise<T>,
  options: { enabled?: boolean; extraKey?: unknown; refetchInterval?: number } = {},
) {
  const position = useOrgPosition(orgId);
  return useQuery({
    queryKey: [name, orgId, position, options.extraKey],
    queryFn: () => fetcher(minPositionInput(position)),
    placeholderData: (previous) => previous,
    enabled: options.enabled ?? true,
    ...(options.refetchInterval ? { refetchInterval: options.refetchInterval } : {}),
  });
}

/** Whether the caller's role may do `action`, and if not, why, in words. */
export function permission(
  role: Role,
  action: Action,
  what = 'do this',
): { allowed: true } | { allowed: false; reason: string } {
  if (can(role, action)) return { allowed: true };
  return {
    allowed: false,
    reason: `Only ${rolesSentence(PERMISSIONS[action])} can ${what}; your role is ${roleLabel(role).toLowerCase()}.`,
  };
}
