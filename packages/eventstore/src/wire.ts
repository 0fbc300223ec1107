/**
 * The event envelope on the wire (NATS payloads, `events.list`, the SSE stream, webhooks):
 * plain JSON with revision and position as decimal strings.
 */
import type { RecordedEvent } from './event-store';

export interface WireEvent {
  id: string;
  type: string;
  version: number;
  streamId: string;
  revision: string;
  position: string;
  occurredAt: string;
  orgId: string;
  actor: { kind: 'user' | 'apiKey' | 'system'; id: string };
  correlationId: string;
  causationId: string | null;
  traceparent: string | null;
  data: unknown;
}

export function toWireEvent(e: RecordedEvent): WireEvent {
  return {
    id: e.id,
    type: e.type,
    version: e.version,
    streamId: e.streamId,
    revision: e.revision.toString(),
    position: e.position.toString(),
    occurredAt: e.occurredAt.toISOString(),
    orgId: e.metadata.orgId,
    actor: e.metadata.actor,
    correlationId: e.metadata.correlationId,
    causationId: e.metadata.causationId,
    traceparent: e.metadata.traceparent ?? null,
    data: e.data,
  };
}

const DECIMAL = /^\d{1,19}$/;

/** Validates an envelope that arrived as JSON; throws with the offending field. */
export function parseWireEvent(value: unknown): WireEvent {
  const v = value as Partial<WireEvent> | null;
  const fail = (field: string): never => {
    throw new Error(`invalid event envelope: ${field}`);
  };
  if (typeof v !== 'object' || v === null) return fail('not an object');
  if (typeof v.id !== 'string') fail('id');
  if (typeof v.type !== 'string' || v.type.length === 0) fail('type');
  if (typeof v.version !== 'number' || !Number.isInteger(v.version)) fail('version');
  if (typeof v.streamId !== 'string') fail('streamId');
  if (typeof v.revision !== 'string' || !DECIMAL.test(v.revision)) fail('revision');
  if (typeof v.position !== 'string' || !DECIMAL.test(v.position)) fail('position');
  if (typeof v.occurredAt !== 'string' || Number.isNaN(Date.parse(v.occurredAt))) fail('occurredAt');
  if (typeof v.orgId !== 'string') fail('orgId');
  if (typeof v.actor !== 'object' || v.actor === null || typeof v.actor.id !== 'string') fail('actor');
  if (typeof v.correlationId !== 'string') fail('correlationId');
  return v as WireEvent;
}

/** The stream category: the part of the stream id before the first `-`. */
export function streamCategory(streamId: string): string {
  const i = streamId.indexOf('-');
  return i <= 0 ? streamId : streamId.slice(0, i);
}
