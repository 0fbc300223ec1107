/**
 * The meeting minutes an organization has used in a month, read to admit joins on a plan cut
 * off at its included minutes (the free plan). The usage stream in the event store is the
 * authority (a read model could lag behind it); the sum is kept per stream at the revision it
 * was read to, so a join reads only the events appended since: one short stream read, however
 * long the month has run. Another gateway's appends are caught by that read, never missed.
 */
import { meteredSeconds, parseEvent, streamIds, type DomainEvent, type UsageEvent } from '@quorum/domain';
import type { EventStore } from '@quorum/eventstore';

interface Tally {
  revision: bigint;
  seconds: number;
}

const isUsageEvent = (event: DomainEvent): event is UsageEvent => event.type.startsWith('usage.');

export class MeetingMinutesReader {
  /** Sum per usage stream at a revision, least recently used first. */
  private readonly tallies = new Map<string, Tally>();

  constructor(
    private readonly store: EventStore,
    private readonly options: { cacheSize?: number } = {},
  ) {}

  /** Seconds of `meeting_minutes` in `orgId`'s usage stream of `period` (`yyyymm`). */
  async usedSeconds(orgId: string, period: string): Promise<number> {
    const streamId = streamIds.usage(orgId, period);
    const known = this.tallies.get(streamId);
    const events = await this.store.readStream(streamId, known ? { fromRevision: known.revision + 1n } : {});
    const last = events.at(-1);
    if (!last) return known?.seconds ?? 0;
    const usage = events.map((e) => parseEvent(e)).filter(isUsageEvent);
    const tally = { revision: last.revision, seconds: meteredSeconds(usage, 'meeting_minutes', known?.seconds) };
    // A read that started earlier and finished later must not put back an older sum.
    const current = this.tallies.get(streamId);
    if (!current || current.revision < tally.revision) this.remember(streamId, tally);
    return tally.seconds;
  }

  private remember(streamId: string, tally: Tally): void {
    this.tallies.delete(streamId);
    this.tallies.set(streamId, tally);
    if (this.tallies.size > (this.options.cacheSize ?? 10_000)) this.tallies.delete(this.tallies.keys().next().value!);
  }
}
