/**
 * The session streams metering reads: held in memory for the sessions metered most recently,
 * extended with the events the bus hands over when they follow on, and read from the store
 * (from the last revision held) when they do not.
 */
import { isDomainEventType, parseEvent, streamIds, type DomainEvent, type StoredSessionEvent } from '@quorum/domain';
import type { EventStore, WireEvent } from '@quorum/eventstore';

/** One event of a session stream as metering keeps it. */
export interface SessionRecord {
  id: string;
  correlationId: string;
  traceparent: string | null;
  /** Undefined for a type this code does not meter. */
  event: StoredSessionEvent | undefined;
}

/** A session stream held in memory: its events up to revision `next - 1`. */
export interface HeldStream {
  orgId: string;
  records: SessionRecord[];
  next: bigint;
}

function recordOf(
  id: string,
  type: string,
  version: number,
  data: unknown,
  correlationId: string,
  traceparent: string | null,
): SessionRecord {
  let event: StoredSessionEvent | undefined;
  if (isDomainEventType(type)) {
    const parsed: DomainEvent = parseEvent({ type, version, data });
    if (parsed.type.startsWith('session.') || parsed.type.startsWith('participant.')) {
      event = { ...parsed, id } as StoredSessionEvent;
    }
  }
  return { id, correlationId, traceparent, event };
}

export class SessionStreams {
  /** Insertion order = recency. */
  private readonly held = new Map<string, HeldStream>();

  constructor(
    private readonly store: EventStore,
    /** Streams kept in memory at most. */
    private readonly capacity: number,
  ) {}

  /**
   * The session's stream: kept in memory for recently metered sessions and extended with the
   * events the bus hands over when they follow on; read from the store (from the last revision
   * held) when they do not, for a session not held, and on a timed pass.
   */
  async get(sessionId: string, hints: readonly WireEvent[]): Promise<HeldStream | undefined> {
    let held = this.held.get(sessionId);
    let read = held === undefined || hints.length === 0;
    if (held) {
      for (const hint of [...hints].sort((a, b) => (BigInt(a.revision) < BigInt(b.revision) ? -1 : 1))) {
        const revision = BigInt(hint.revision);
        if (revision < held.next) continue;
        if (revision > held.next) {
          read = true;
          break;
        }
        held.records.push(recordOf(hint.id, hint.type, hint.version, hint.data, hint.correlationId, hint.traceparent));
        held.next++;
      }
    }
    if (read) {
      const recorded = await this.store.readStream(streamIds.session(sessionId), {
        fromRevision: held?.next ?? 0n,
      });
      if (!held) {
        if (recorded[0] === undefined) return undefined;
        held = { orgId: recorded[0].metadata.orgId, records: [], next: 0n };
      }
      for (const e of recorded) {
        if (e.revision !== held.next) continue;
        held.records.push(
          recordOf(e.id, e.type, e.version, e.data, e.metadata.correlationId, e.metadata.traceparent ?? null),
        );
        held.next++;
      }
    }
    if (!held) return undefined;
    this.held.delete(sessionId);
    this.held.set(sessionId, held);
    if (this.held.size > this.capacity) this.held.delete(this.held.keys().next().value!);
    return held;
  }
}
