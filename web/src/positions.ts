/**
 * Read your writes: every mutation answers the `position` of its events; the newest one per
 * organization (and overall, for `org.list`) is kept here and passed as `minPosition` by every
 * read, and it is part of each query key, so a click is followed by a read that waits for it.
 */
import { useSyncExternalStore } from 'react';

const byOrg = new Map<string, string>();
let latest: string | undefined;
const listeners = new Set<() => void>();

function later(a: string | undefined, b: string): string {
  return a !== undefined && BigInt(a) >= BigInt(b) ? a : b;
}

export function recordPosition(orgId: string | undefined, position: string): void {
  if (orgId) byOrg.set(orgId, later(byOrg.get(orgId), position));
  latest = later(latest, position);
  for (const l of listeners) l();
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The newest position written for `orgId` by this tab, if any. */
export function useOrgPosition(orgId: string): string | undefined {
  return useSyncExternalStore(subscribe, () => byOrg.get(orgId));
}

/** The newest position written by this tab, if any. */
export function useLatestPosition(): string | undefined {
  return useSyncExternalStore(subscribe, () => latest);
}

/** `{ minPosition }` when there is one (the input schemas take no `undefined`). */
export function minPositionInput(position: string | undefined): { minPosition?: string } {
  return position ? { minPosition: position } : {};
}
