/**
 * Stream names, in one place. A stream id is `<category>-<rest>`; the category never holds a
 * dash, so {@link categoryOf} splits on the first one (ids after it may hold dashes).
 */
import { badRequest } from './errors';

/** Categories of streams in the event store. */
export const STREAM_CATEGORIES = ['organization', 'seats', 'session', 'usage', 'billing', 'webhooks'] as const;
/** A stream category. */
export type StreamCategory = (typeof STREAM_CATEGORIES)[number];

const YYYYMM = /^\d{4}(0[1-9]|1[0-2])$/;

/** Builders for every stream id. */
export const streamIds = {
  /** `organization-<orgId>`: lifecycle, plan, members and invitations. */
  organization: (orgId: string): string => `organization-${orgId}`,
  /** `seats-<orgId>`: seats purchased, released, assigned. */
  seats: (orgId: string): string => `seats-${orgId}`,
  /** `session-<sessionId>`: one meeting session. */
  session: (sessionId: string): string => `session-${sessionId}`,
  /** `usage-<orgId>-<yyyymm>`: metered usage of one calendar month (UTC). */
  usage: (orgId: string, yyyymm: string): string => {
    if (!YYYYMM.test(yyyymm)) {
      throw badRequest('streams.bad_period', `Usage period must be yyyymm, got "${yyyymm}".`, { yyyymm });
    }
    return `usage-${orgId}-${yyyymm}`;
  },
  /** `billing-<orgId>`: what the Stripe sync did and what Stripe reported. */
  billing: (orgId: string): string => `billing-${orgId}`,
  /** `webhooks-<orgId>`: the organization's webhook endpoints. */
  webhooks: (orgId: string): string => `webhooks-${orgId}`,
} as const;

/** The `yyyymm` usage period (UTC) that contains `at`. */
export function usagePeriodOf(at: Date): string {
  return `${at.getUTCFullYear()}${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Category of a stream id; throws `BAD_REQUEST` (`streams.unknown_category`) for any other. */
export function categoryOf(streamId: string): StreamCategory {
  const dash = streamId.indexOf('-');
  const category = dash > 0 ? streamId.slice(0, dash) : '';
  const known = STREAM_CATEGORIES.find((c) => c === category);
  if (known === undefined || dash === streamId.length - 1) {
    throw badRequest('streams.unknown_category', `"${streamId}" is not a known stream id.`, { streamId });
  }
  return known;
}
