/** Between ESDB's events and ours: positions, metadata, and the expected revision. */
import { START, jsonEvent } from '@eventstore/db-client';
import type { AppendExpectedRevision, JSONType, Position, ReadPosition } from '@eventstore/db-client';
import { InvalidAppendError } from '../errors';
import type { EventMetadata, ExpectedRevision, NewEvent, RecordedEvent } from '../event-store';

/** The ESDB-side shape of our metadata: `EventMetadata` plus the schema version. */
type StoredMetadata = EventMetadata & { schemaVersion: number };

/** What both stream and `$all` reads give back, narrowed to what we map. */
export interface EsdbEvent {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  created: Date;
  data: unknown;
  metadata: unknown;
  position?: Position | undefined;
}

export function isSystem(event: { streamId: string; type: string }): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

export function positionOf(event: EsdbEvent): bigint {
  if (!event.position) {
    // Stream reads carry `$all` positions from server 22.6 on.
    throw new Error(
      `EventStoreDB returned no $all position for ${event.streamId}@${event.revision}; the adapter needs server 22.6 or later`,
    );
  }
  return event.position.commit;
}

export function readPositionAfter(position: bigint | undefined): ReadPosition {
  return position === undefined || position < 0n ? START : { commit: position, prepare: position };
}

function isStoredMetadata(value: unknown): value is StoredMetadata {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    typeof (value as { schemaVersion?: unknown }).schemaVersion === 'number'
  );
}

export function toRecorded(event: EsdbEvent): RecordedEvent {
  if (!isStoredMetadata(event.metadata)) {
    throw new Error(
      `event ${event.id} in ${event.streamId} was not written by the Quorum EventStoreDB adapter (no schemaVersion in its metadata)`,
    );
  }
  const { schemaVersion, ...metadata } = event.metadata;
  return {
    id: event.id,
    type: event.type,
    version: schemaVersion,
    data: event.data,
    metadata,
    streamId: event.streamId,
    revision: event.revision,
    position: positionOf(event),
    occurredAt: event.created,
  };
}

export function toEventData(event: NewEvent) {
  const metadata: StoredMetadata = { ...event.metadata, schemaVersion: event.version };
  return jsonEvent({
    id: event.id,
    type: event.type,
    // ESDB stores any JSON text; the client's JSONType is narrower than what it serializes.
    data: (event.data ?? null) as JSONType,
    metadata,
  });
}

export function toEsdbExpected(expected: ExpectedRevision): AppendExpectedRevision {
  if (typeof expected === 'bigint') {
    if (expected < 0n) throw new InvalidAppendError(`expected revision must be >= 0, got ${expected}`);
    return expected;
  }
  return expected;
}
