/**
 * A refused join in words: how the meeting client records it (the server's message and reason
 * slug, from `meetings.join` or the SFU's `join`), and what the join page adds for a reason
 * the person can act on, such as an organization out of meeting minutes.
 */
import { can, PERMISSIONS, type Role } from '@quorum/domain';
import { TicketRefused } from './join-ticket';
import type { Ended } from './room-state';
import { SignalingRequestError } from './signaling-socket';

/** How a join that failed with `err` ended: refused, in the server's words, with its reason slug. */
export function refusal(err: unknown): Ended {
  const message = err instanceof Error ? err.message : 'The meeting could not be joined.';
  const reason = err instanceof TicketRefused || err instanceof SignalingRequestError ? err.reason : undefined;
  return { reason: 'refused', message, ...(reason ? { refusal: reason } : {}) };
}

/** What to offer beside a refusal's message. */
export type RefusalHint =
  /** The caller may change the plan: a link to the plan page. */
  | { kind: 'upgrade'; text: string; planPath: string }
  /** Someone else must: who, and the plan page to see what each plan includes. */
  | { kind: 'ask'; text: string; planPath: string };

const PLAN_CHANGERS: Record<string, string> = { owner: 'an owner', billing: 'a billing member' };

/**
 * The hint for a refusal the person can do something about, or null. `role` is the caller's
 * role in the organization, when known (`org.get`); without it the hint names who can act.
 */
export function refusalHint(refusal: string | undefined, orgId: string, role: Role | undefined): RefusalHint | null {
  if (refusal !== 'session.minutes_exhausted') return null;
  const planPath = `/orgs/${orgId}/plan`;
  if (role && can(role, 'org.changePlan')) {
    return { kind: 'upgrade', text: 'Upgrade the plan to meet again now.', planPath };
  }
  const who = PERMISSIONS['org.changePlan'].map((r) => PLAN_CHANGERS[r] ?? r).join(' or ');
  return { kind: 'ask', text: `Ask ${who} of your organization to upgrade the plan.`, planPath };
}
