/**
 * Thresholds of the included minutes: after metering adds to an organization's month, its
 * `meeting_minutes` total is compared with what its plan includes, and `usage.threshold_crossed`
 * is appended at 80% and 100%, once per organization, period and threshold (a derived id, and
 * `metering_thresholds` remembers it).
 */
import type { SqlDatabase } from '@quorum/db';
import {
  ENTITLEMENTS,
  USAGE_THRESHOLDS,
  currentVersionOf,
  foldEvents,
  isDomainEventType,
  organizationDecider,
  parseEvent,
  streamIds,
  type OrganizationEvent,
  type Plan,
} from '@quorum/domain';
import { uuidV5, type EventStore } from '@quorum/eventstore';
import type { Logger } from 'pino';
import { USAGE_NAMESPACE } from './usage-ids';

/** How long an organization's plan is taken as known. */
const PLAN_TTL_MS = 30_000;

/** The id of the `usage.threshold_crossed` event of an organization, period and threshold. */
export function thresholdEventId(orgId: string, period: string, threshold: number): string {
  return uuidV5(USAGE_NAMESPACE, `usage.threshold_crossed|${orgId}|${period}|${threshold}`);
}

export class Thresholds {
  /** Organization periods checked since the process started. */
  private readonly checked = new Set<string>();
  private readonly plans = new Map<string, { plan: Plan | undefined; until: number }>();

  constructor(private readonly options: { store: EventStore; sql: SqlDatabase; logger: Logger; now: () => Date }) {}

  /** Whether `orgId`'s `period` was checked since this process started. */
  wasChecked(orgId: string, period: string): boolean {
    return this.checked.has(`${orgId}/${period}`);
  }

  /** Appends `usage.threshold_crossed` once per threshold the period's meeting minutes have reached. */
  async check(orgId: string, period: string): Promise<void> {
    this.checked.add(`${orgId}/${period}`);
    const { rows } = await this.options.sql.query<{ seconds: string; done: number[] | null }>(
      `SELECT t.seconds,
              (SELECT array_agg(threshold) FROM metering_thresholds h WHERE h.org_id = $1 AND h.period = $2) AS done
         FROM metering_totals t WHERE t.org_id = $1 AND t.period = $2 AND t.meter = 'meeting_minutes'`,
      [orgId, period],
    );
    const row = rows[0];
    if (!row) return;
    const used = Number(row.seconds);
    const done = new Set(row.done ?? []);
    const pending = USAGE_THRESHOLDS.filter((t) => !done.has(t));
    if (pending.length === 0) return;
    const plan = await this.planOf(orgId);
    const included = plan === undefined ? null : ENTITLEMENTS[plan].meetingMinutesPerMonth;
    if (included === null || included === 0) return;
    for (const threshold of pending) {
      if (used * 100 < threshold * included * 60) continue;
      const id = thresholdEventId(orgId, period, threshold);
      await this.options.store.appendToStream(streamIds.usage(orgId, period), [
        {
          id,
          type: 'usage.threshold_crossed',
          version: currentVersionOf('usage.threshold_crossed'),
          data: {
            period,
            meter: 'meeting_minutes',
            threshold,
            includedMinutes: included,
            usedSeconds: used,
            at: this.options.now().toISOString(),
          },
          metadata: {
            orgId,
            actor: { kind: 'system', id: 'metering' },
            correlationId: id,
            causationId: null,
          },
        },
      ]);
      await this.options.sql.query(
        `INSERT INTO metering_thresholds (org_id, period, threshold, event_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING`,
        [orgId, period, threshold, id],
      );
      this.options.logger.info({ orgId, period, threshold, usedSeconds: used, included }, 'usage threshold crossed');
    }
  }

  private async planOf(orgId: string): Promise<Plan | undefined> {
    const cached = this.plans.get(orgId);
    if (cached && cached.until > Date.now()) return cached.plan;
    const plan = await this.readPlan(orgId);
    this.plans.set(orgId, { plan, until: Date.now() + PLAN_TTL_MS });
    return plan;
  }

  private async readPlan(orgId: string): Promise<Plan | undefined> {
    const events = await this.options.store.readStream(streamIds.organization(orgId));
    const state = foldEvents(
      organizationDecider,
      events.filter((e) => isDomainEventType(e.type)).map((e) => parseEvent(e) as OrganizationEvent),
    );
    return state.exists ? state.plan : undefined;
  }
}
