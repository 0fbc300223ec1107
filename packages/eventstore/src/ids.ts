import { createHash } from 'node:crypto';

/**
 * A name-based uuid (version 5, RFC 9562) of `name` within `namespace` (itself a uuid): the
 * same inputs always give the same id, so an event appended under a derived id is appended
 * once however often it is derived (a retried command, a replay, a second consumer).
 */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new TypeError(`uuidV5: the namespace must be a uuid, got "${namespace}"`);
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
