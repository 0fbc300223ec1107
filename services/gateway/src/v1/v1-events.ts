/**
 * The public side of the event log for `/v1`: a `types` filter in public names, and pages of
 * public envelopes made from what `events.list` returns. Internal types never leave: the
 * filter asks `events.list` for public types only, so a page is never short because of them.
 */
import {
  AppError,
  PUBLIC_EVENT_TYPES,
  isPublicEventType,
  publicTypeOfCloudEventType,
  toPublicEvent,
  type PublicEvent,
  type PublicEventType,
} from '@quorum/domain';
import type { WireEvent } from '@quorum/eventstore';
import { MAX_LISTED_EVENT_TYPES } from '../events/events.schema';

/**
 * The public types a `types` query names (comma-separated; `member.joined` or its CloudEvents
 * type `quorum.member.joined.v1`); every public type when absent. Unknown and internal names
 * are refused together, listed.
 */
export function publicTypesOf(query: string | undefined): PublicEventType[] {
  if (query === undefined) return [...PUBLIC_EVENT_TYPES];
  const names = query
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new AppError(
      'BAD_REQUEST',
      'events.unknown_types',
      'types names no event type; leave it out for every type.',
    );
  const unknown: string[] = [];
  const types = new Set<PublicEventType>();
  for (const name of names) {
    const type = isPublicEventType(name) ? name : publicTypeOfCloudEventType(name);
    if (type) types.add(type);
    else unknown.push(name);
  }
  if (unknown.length > 0)
    throw new AppError(
      'BAD_REQUEST',
      'events.unknown_types',
      `Not public event types: ${unknown.join(', ')}. The list is at /schemas/index.json.`,
      { details: { unknown } },
    );
  return [...types];
}

/** One page of `events.list`, as `/v1` reads it. */
export interface ListedPage {
  events: ReadonlyArray<
    Pick<WireEvent, 'id' | 'type' | 'version' | 'streamId' | 'orgId' | 'position' | 'occurredAt'> & { data?: unknown }
  >;
  next: string | null;
}

/**
 * Up to `limit` public envelopes of `types` after `after`. `list` runs `events.list` (with its
 * role and tenant checks) for one page; it filters on the types itself while they fit in one
 * call (`MAX_LISTED_EVENT_TYPES`), and otherwise reads every type and the filter happens here.
 * Pages are read until `limit` envelopes or the end, so events dropped on the way (internal
 * ones, other types) never end the paging early.
 */
export async function publicEventsPage(
  list: (q: { after: string | undefined; limit: number; types: PublicEventType[] | undefined }) => Promise<ListedPage>,
  q: { after: string | undefined; limit: number; types: PublicEventType[] },
  baseUrl: string,
): Promise<{ data: PublicEvent[]; next: string | null }> {
  const wanted = new Set<string>(q.types);
  const types = q.types.length <= MAX_LISTED_EVENT_TYPES ? q.types : undefined;
  const data: PublicEvent[] = [];
  let after = q.after;
  for (;;) {
    const page = await list({ after, limit: q.limit - data.length, types });
    for (const event of page.events) {
      after = event.position;
      if (!wanted.has(event.type)) continue;
      const envelope = toPublicEvent({ ...event, data: event.data }, baseUrl);
      if (envelope) data.push(envelope);
    }
    if (page.next === null) return { data, next: null };
    if (data.length >= q.limit) return { data, next: after ?? null };
  }
}
