/**
 * The usage read models (`usage_records`, `usage_daily`, `usage_thresholds`), from the events
 * of `usage-<orgId>-<yyyymm>` streams. See docs/metering.md.
 *
 * A record is keyed by its event id, and the daily aggregate grows only by the record rows a
 * statement actually inserted (`RETURNING` of an insert-if-absent), in the same statement: an
 * event applied twice, under the same position or another, is counted once.
 */
import { sql } from 'kysely';
import { assertUnreachable, streamIds, type UsageEvent } from '@quorum/domain';
import { json, type TableOf, type Trx } from './write-plan';

type Recorded = Extract<UsageEvent, { type: 'usage.recorded' }>;
type Crossed = Extract<UsageEvent, { type: 'usage.threshold_crossed' }>;

/** The usage events of a batch, in position order. */
export class UsagePlan {
  private readonly records = new Map<string, Record<string, unknown>>();
  private readonly thresholds: Array<Record<string, unknown>> = [];

  add(orgId: string, streamId: string, envelope: { id: string; position: string; at: string }, event: UsageEvent) {
    // The stream names the organization and month the usage belongs to; an event filed under
    // another is a producer's bug, and counting it anywhere would bill the wrong account.
    if (streamId !== streamIds.usage(orgId, event.data.period))
      throw new Error(`${event.type} of period ${event.data.period} on stream ${streamId}, not that of org ${orgId}`);
    switch (event.type) {
      case 'usage.recorded':
        return this.record(orgId, envelope, event);
      case 'usage.threshold_crossed':
        return this.threshold(orgId, envelope, event);
      default:
        return assertUnreachable(event);
    }
  }

  private record(orgId: string, e: { id: string; position: string; at: string }, event: Recorded) {
    const d = event.data;
    if (Date.parse(d.to) - Date.parse(d.from) !== d.seconds * 1000)
      throw new Error(`usage.recorded ${e.id}: [${d.from}, ${d.to}) is not ${d.seconds} s`);
    if (this.records.has(e.id)) return;
    this.records.set(e.id, {
      event_id: e.id,
      org_id: orgId,
      period: d.period,
      meter: d.meter,
      session_id: d.sessionId,
      host_user_id: d.hostUserId,
      participant_id: d.participantId,
      stint: d.stint,
      from_at: d.from,
      to_at: d.to,
      seconds: d.seconds,
      sources: d.sources,
      position: e.position,
      recorded_at: e.at,
    });
  }

  private threshold(orgId: string, e: { id: string }, event: Crossed) {
    const d = event.data;
    this.thresholds.push({
      org_id: orgId,
      period: d.period,
      meter: d.meter,
      threshold: d.threshold,
      included_minutes: d.includedMinutes,
      used_seconds: d.usedSeconds,
      crossed_at: d.at,
      event_id: e.id,
    });
  }

  /** Writes the batch: two statements at most. */
  async flush(trx: Trx, t: TableOf): Promise<void> {
    if (this.records.size > 0) {
      await sql`
        WITH v AS (
          SELECT * FROM jsonb_to_recordset(${json([...this.records.values()])}::jsonb) AS v(
            event_id uuid, org_id uuid, period text, meter text, session_id uuid, host_user_id uuid,
            participant_id uuid, stint uuid, from_at timestamptz, to_at timestamptz, seconds integer,
            sources jsonb, position bigint, recorded_at timestamptz)
        ), inserted AS (
          INSERT INTO ${t('usage_records')} (event_id, org_id, period, meter, session_id, host_user_id, participant_id,
                                             stint, from_at, to_at, seconds, day, sources, position, recorded_at)
          SELECT event_id, org_id, period, meter, session_id, host_user_id, participant_id,
                 stint, from_at, to_at, seconds, (from_at AT TIME ZONE 'UTC')::date, sources, position, recorded_at
            FROM v
          ON CONFLICT (event_id) DO NOTHING
          RETURNING org_id, period, meter, day, host_user_id, session_id, seconds
        )
        INSERT INTO ${t('usage_daily')} AS d (org_id, period, meter, day, host_user_id, session_id, seconds, records)
        SELECT org_id, period, meter, day, host_user_id, session_id, sum(seconds), count(*)
          FROM inserted
         GROUP BY org_id, period, meter, day, host_user_id, session_id
        ON CONFLICT (org_id, period, meter, day, host_user_id, session_id)
        DO UPDATE SET seconds = d.seconds + excluded.seconds, records = d.records + excluded.records`.execute(trx);
    }
    if (this.thresholds.length > 0) {
      await sql`
        INSERT INTO ${t('usage_thresholds')} (org_id, period, meter, threshold, included_minutes, used_seconds,
                                              crossed_at, event_id)
        SELECT org_id, period, meter, threshold, included_minutes, used_seconds, crossed_at, event_id
          FROM jsonb_to_recordset(${json(this.thresholds)}::jsonb) AS v(
            org_id uuid, period text, meter text, threshold integer, included_minutes integer, used_seconds bigint,
            crossed_at timestamptz, event_id uuid)
        ON CONFLICT (org_id, period, meter, threshold) DO NOTHING`.execute(trx);
    }
  }
}
