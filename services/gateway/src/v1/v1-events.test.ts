import { AppError, PUBLIC_EVENT_TYPES } from '@quorum/domain';
import { describe, expect, it } from 'vitest';
import { MAX_LISTED_EVENT_TYPES } from '../events/events.schema';
import { publicEventsPage, publicTypesOf, type ListedPage } from './v1-events';

const ORG = '00000000-0000-4000-8000-00000000000a';
const USER = '00000000-0000-4000-8000-000000000001';

function logged(position: number, type: 'member.joined' | 'billing.customer_linked') {
  const data =
    type === 'member.joined'
      ? { userId: USER, email: `u${position}@example.com`, role: 'member', invitationId: null }
      : {
          customerId: `cus_${position}`,
          cause: { eventId: USER, type: 'organization.created' },
          at: '2026-01-01T00:00:00.000Z',
        };
  return {
    id: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
    type,
    version: 1,
    streamId: `organization-${ORG}`,
    orgId: ORG,
    position: String(position),
    occurredAt: '2026-01-01T00:00:00.000Z',
    data,
  };
}

/** An event log where positions 1–3 are public, 4–20 internal, 21–22 public. */
const LOG = Array.from({ length: 22 }, (_, i) =>
  logged(i + 1, i < 3 || i >= 20 ? 'member.joined' : 'billing.customer_linked'),
);

/** `events.list` over LOG: ascending, after, limit, and its own types filter when given. */
function listOver(calls: Array<{ types: string[] | undefined }>) {
  return async (q: { after: string | undefined; limit: number; types: string[] | undefined }): Promise<ListedPage> => {
    calls.push({ types: q.types });
    const events = LOG.filter((e) => Number(e.position) > Number(q.after ?? 0))
      .filter((e) => !q.types || q.types.includes(e.type))
      .slice(0, q.limit);
    return { events, next: events.length === q.limit ? events.at(-1)!.position : null };
  };
}

describe('publicEventsPage', () => {
  it('asks events.list for the public types, so pages are full and the cursor is the last item', async () => {
    const calls: Array<{ types: string[] | undefined }> = [];
    const page = await publicEventsPage(
      listOver(calls),
      { after: undefined, limit: 4, types: ['member.joined'] },
      'https://q.example',
    );
    expect(page.data.map((e) => e.sequence)).toEqual(['1', '2', '3', '21']);
    expect(page.next).toBe('21');
    expect(calls).toEqual([{ types: ['member.joined'] }]);
  });

  it('with more types than one call takes, reads past a run of internal events longer than a page', async () => {
    const calls: Array<{ types: string[] | undefined }> = [];
    const many = Array.from({ length: MAX_LISTED_EVENT_TYPES + 1 }, () => 'member.joined' as const);
    const page = await publicEventsPage(listOver(calls), { after: '2', limit: 2, types: many }, 'https://q.example');
    expect(page.data.map((e) => e.sequence)).toEqual(['3', '21']);
    expect(page.next).toBe('21');
    expect(calls.length).toBeGreaterThan(2);
    expect(calls.every((c) => c.types === undefined)).toBe(true);
    const end = await publicEventsPage(listOver([]), { after: '21', limit: 5, types: many }, 'https://q.example');
    expect(end).toMatchObject({ next: null });
    expect(end.data.map((e) => e.sequence)).toEqual(['22']);
  });
});

describe('publicTypesOf', () => {
  it('takes public names and CloudEvents types, and refuses the rest, listed', () => {
    expect(publicTypesOf(undefined)).toEqual(PUBLIC_EVENT_TYPES);
    expect(publicTypesOf('member.joined, quorum.seat.assigned.v1')).toEqual(['member.joined', 'seat.assigned']);
    const refused = (() => {
      try {
        publicTypesOf('member.joined,billing.customer_linked,quorum.member.joined.v9');
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).reason).toBe('events.unknown_types');
    expect((refused as AppError).details).toEqual({ unknown: ['billing.customer_linked', 'quorum.member.joined.v9'] });
  });
});
