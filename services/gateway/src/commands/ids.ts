import { randomUUID } from 'node:crypto';
import { uuidV5 } from '@quorum/eventstore';

/** Namespace for ids derived from an `Idempotency-Key` (uuid v5, RFC 9562). */
const NAMESPACE = '6f1c7a52-93d5-4c43-9d2e-2f0b8e1a4c11';

/** uuid v5 of `name` in Quorum's idempotency namespace. */
function idempotentId(name: string): string {
  return uuidV5(NAMESPACE, name);
}

/** Generates ids: derived from the idempotency key when there is one, random otherwise. */
export interface IdSource {
  /** The id for the `index`-th event of `stream` in this command. */
  eventId(stream: string, index: number): string;
  /** A stable id for something the command creates (an organization, an invitation). */
  entityId(label: string): string;
  readonly idempotent: boolean;
}

export function createIdSource(scope: string, idempotencyKey: string | undefined): IdSource {
  if (!idempotencyKey) {
    return { eventId: () => randomUUID(), entityId: () => randomUUID(), idempotent: false };
  }
  return {
    eventId: (stream, index) => idempotentId(`${scope}|${idempotencyKey}|event|${stream}|${index}`),
    entityId: (label) => idempotentId(`${scope}|${idempotencyKey}|entity|${label}`),
    idempotent: true,
  };
}
