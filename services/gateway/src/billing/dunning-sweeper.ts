/**
 * Dunning (docs/billing.md, "Dunning"): an organization past due for longer than the grace is
 * suspended, until an invoice is paid. Every `intervalMs` the read model's past-due
 * organizations whose latest `organization.marked_past_due` is older than the grace are looked
 * at; each is decided again on its own stream, where that event must still be the latest change
 * of status and older than the grace (the read model may lag a payment), then suspended.
 *
 * Safe with many gateways: the suspension's id is derived from the `marked_past_due` it ends,
 * so a second gateway sweeping at once finds it already appended, and a suspension the stream
 * no longer calls for (paid meanwhile, already suspended) is refused and skipped.
 */
import { AppError, organizationDecider, streamIds, type OrganizationEvent } from '@quorum/domain';
import type { Logger } from 'pino';
import type { CommandHandler } from '../commands/command-handler';
import { createIdSource } from '../commands/ids';
import { startPeriodicSweep, type PeriodicSweep } from '../meetings/periodic-sweep';
import type { StripeWebhooksRepository } from './stripe-webhooks.repository';

/** `sweep()` resolves with the number of organizations suspended. */
export type DunningSweeper = PeriodicSweep;

export interface DunningOptions {
  /** How long an organization may stay past due before it is suspended. */
  graceMs: number;
  /** How often to look; 0: only on `sweep()`. */
  intervalMs: number;
}

/** Status changes of the organization stream. */
const LIFECYCLE_EVENTS = new Set<OrganizationEvent['type']>([
  'organization.created',
  'organization.activated',
  'organization.reactivated',
  'organization.marked_past_due',
  'organization.suspended',
  'organization.closed',
]);

/** The suspension reason of dunning, naming the grace. */
export function pastDueReason(graceMs: number): string {
  const days = graceMs / 86_400_000;
  return `payment past due for more than ${Number.isInteger(days) ? `${days} days` : `${graceMs / 1000} s`}`;
}

class NoLongerDue extends Error {}

export function startDunningSweeper(
  deps: { commands: CommandHandler; repository: StripeWebhooksRepository; logger: Logger; now: () => Date },
  options: DunningOptions,
): DunningSweeper {
  const log = deps.logger.child({ component: 'dunning' });
  const reason = pastDueReason(options.graceMs);

  const sweepOnce = async (): Promise<number> => {
    const cutoff = new Date(deps.now().getTime() - options.graceMs);
    let suspended = 0;
    for (const { orgId, eventId, since } of await deps.repository.pastDueSince(cutoff)) {
      try {
        const result = await deps.commands.execute(
          organizationDecider,
          streamIds.organization(orgId),
          {
            orgId,
            actor: { kind: 'system', id: 'gateway:dunning' },
            correlationId: eventId,
            ids: createIdSource('dunning', eventId),
          },
          // An idempotent command reads its stream whole: `events` is all of it.
          (state, { events }) => {
            const latest = events.findLast((e) => LIFECYCLE_EVENTS.has(e.type as OrganizationEvent['type']));
            const now = deps.now();
            if (latest?.id !== eventId || now.getTime() - latest.occurredAt.getTime() < options.graceMs)
              throw new NoLongerDue();
            return organizationDecider.decide({ type: 'SuspendOrganization', orgId, reason, at: now }, state);
          },
        );
        if (!result.replayed) {
          suspended++;
          log.info({ orgId, pastDueSince: since.toISOString() }, 'organization suspended: past due beyond the grace');
        }
      } catch (err) {
        if (err instanceof NoLongerDue || err instanceof AppError) continue; // paid, suspended or closed meanwhile
        log.warn({ err, orgId }, 'could not suspend a past-due organization; will retry');
      }
    }
    return suspended;
  };

  return startPeriodicSweep('dunning sweep', log, options.intervalMs, sweepOnce);
}
