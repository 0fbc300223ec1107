/** Ids of the events metering appends, derived from what they say (uuid v5). */
import { uuidV5 } from '@quorum/eventstore';

/** Namespace of usage event ids (uuid v5). Changing it would record everything again. */
export const USAGE_NAMESPACE = '3d2b8f4e-7c1a-4e59-9b0d-5a6c8e2f1b73';

/** The id of the `usage.recorded` event for an interval with this key. */
export function usageEventId(key: string): string {
  return uuidV5(USAGE_NAMESPACE, `usage.recorded|${key}`);
}
