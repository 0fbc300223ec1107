import { createHash, randomUUID } from 'node:crypto';

/** Namespace for ids derived from an `Idempotency-Key` (uuid v5, RFC 9562). */
const NAMESPACE = Buffer.from('6f1c7a52-93d5-4c43-9d2e-2f0b8e1a4c11'.replace(/-/g, ''), 'hex');

/** uuid v5 of `name` in Quorum's idempotency namespace. */
export function uuidV5(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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
    eventId: (stream, index) => uuidV5(`${scope}|${idempotencyKey}|event|${stream}|${index}`),
    entityId: (label) => uuidV5(`${scope}|${idempotencyKey}|entity|${label}`),
    idempotent: true,
  };
}
