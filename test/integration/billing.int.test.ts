/**
 * The invoice preview over HTTP against the real servers. This month's preview follows real
 * commands (seats bought and released, the plan changed); a past month with changes mid-month
 * is appended straight to the store with chosen times (the gateway cannot backdate), and its
 * lines and totals are checked against amounts worked out by hand.
 */
import { randomUUID } from 'node:crypto';
import { currentVersionOf, streamIds, usagePeriodOf, type DomainEvent } from '@quorum/domain';
import type { NewEvent } from '@quorum/eventstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, type CallOptions } from '../support/http-client';
import { addMember, createOrg, signUp, type TestUser } from '../support/people';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';
import { appendUsage, getRoute } from '../support/usage';

let q: TestQuorum;
const as = (u: TestUser): CallOptions => ({ token: u.token });

interface SeatLine {
  kind: 'seats';
  plan: string;
  quantity: number;
  from: string;
  to: string;
  seconds: number;
  monthSeconds: number;
  unitAmount: number;
  amount: number;
  sources: { eventId: string; quantityEventId: string | null; planEventId: string };
}
const seatLines = (p: { lines: Array<{ kind: string }> }) => p.lines.filter((l) => l.kind === 'seats') as SeatLine[];

/**
 * Backdating for this test's database only: an append of an event listed in `test_backdates`
 * stores that event with the listed time, in the append's own transaction, so the relay and the
 * projector never see another time.
 */
async function installBackdating(): Promise<(times: Map<string, string>) => Promise<void>> {
  await q.app.sql.exec(`
    CREATE TABLE test_backdates (event_id uuid PRIMARY KEY, occurred_at timestamptz NOT NULL);
    CREATE FUNCTION test_backdate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT b.occurred_at INTO NEW.occurred_at FROM test_backdates b WHERE b.event_id = NEW.event_id;
      IF NEW.occurred_at IS NULL THEN NEW.occurred_at := now(); END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER test_backdate BEFORE INSERT ON es_events FOR EACH ROW EXECUTE FUNCTION test_backdate();
  `);
  return async (times) => {
    for (const [id, at] of times)
      await q.app.sql.query('INSERT INTO test_backdates (event_id, occurred_at) VALUES ($1, $2)', [id, at]);
  };
}

beforeAll(async () => {
  q = await startTestQuorum('billing');
}, 120_000);

afterAll(async () => {
  await q?.stop();
});

describe('billing.preview of this month, from real commands', () => {
  it('prices the seats and plan in force to the month end, each line naming its events', async () => {
    const owner = await signUp(q.http, 'owner');
    const { orgId } = await createOrg(q.http, owner, 'pro');
    await q.http.mutation('seats.purchase', { orgId, quantity: 3 }, as(owner));
    await q.http.mutation('org.changePlan', { orgId, plan: 'business' }, as(owner));
    await q.http.mutation('seats.release', { orgId, quantity: 1 }, as(owner));
    const { position } = await q.http.mutation('seats.assign', { orgId, userId: owner.userId }, as(owner));
    const billing = await addMember(q.http, orgId, owner, 'billing');
    const period = usagePeriodOf(new Date());

    const preview = await q.http.query(
      'billing.preview',
      { orgId, period, minPosition: billing.position },
      as(billing),
    );
    const { events } = await q.http.query('events.list', { orgId, minPosition: position }, as(owner));
    const idOf = (type: string) => (events as Array<{ id: string; type: string }>).find((e) => e.type === type)!.id;
    const created = idOf('organization.created');
    const planChanged = idOf('organization.plan_changed');
    const released = idOf('seats.released');
    const createdAt = (events as Array<{ type: string; occurredAt: string }>).find(
      (e) => e.type === 'organization.created',
    )!.occurredAt;

    expect(preview).toMatchObject({
      orgId,
      period,
      currency: 'usd',
      monthEnded: false,
      planAtEnd: { plan: 'business', eventId: planChanged },
      usage: { meter: 'meeting_minutes', seconds: 0, records: 0, streamId: streamIds.usage(orgId, period) },
    });
    // Stretches shorter than a second (commands a moment apart) are left out; the rest cover
    // the month from the creation, to the second, up to its end.
    const lines = seatLines(preview);
    expect(lines.at(-1)).toMatchObject({
      plan: 'business',
      quantity: 2,
      to: preview.to,
      unitAmount: 2400,
      sources: { eventId: released, quantityEventId: released, planEventId: planChanged },
    });
    expect(lines[0]!.from).toBe(new Date(Math.floor(Date.parse(createdAt) / 1000) * 1000).toISOString());
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.from).toBe(lines[i - 1]!.to);
    expect(lines.reduce((n, l) => n + l.seconds, 0)).toBe((Date.parse(preview.to) - Date.parse(lines[0]!.from)) / 1000);
    for (const l of lines) {
      expect([created, idOf('seats.purchased'), planChanged, released]).toContain(l.sources.eventId);
      expect(l.seconds).toBeGreaterThan(0);
    }
    // The seat subtotal is the exact sum rounded half up once, and the lines add up to it.
    const d = BigInt(preview.monthSeconds);
    const exact = lines.reduce((n, l) => n + BigInt(l.unitAmount) * BigInt(l.quantity) * BigInt(l.seconds), 0n);
    expect(BigInt(preview.totals.seats)).toBe((2n * exact + d) / (2n * d));
    expect(lines.reduce((n, l) => n + l.amount, 0)).toBe(preview.totals.seats);
    expect(preview.lines.slice(-2)).toEqual([
      {
        kind: 'included_minutes',
        plan: 'business',
        minutes: 0,
        includedMinutes: 100_000,
        amount: 0,
        sources: { planEventId: planChanged },
      },
      {
        kind: 'overage_minutes',
        plan: 'business',
        minutes: 0,
        unitAmount: 1,
        amount: 0,
        sources: { planEventId: planChanged },
      },
    ]);
    expect(preview.totals).toEqual({ seats: preview.totals.seats, usage: 0, total: preview.totals.seats });
    expect(preview.seatHolders).toEqual([
      expect.objectContaining({ userId: owner.userId, to: null, unassignedEventId: null, reason: null }),
    ]);
  });
});

describe('billing.preview of a past month with changes in the middle of it', () => {
  let owner: TestUser;
  let billing: TestUser;
  let admin: TestUser;
  let orgId: string;
  let ids: Record<string, string>;
  let minPosition: string;

  beforeAll(async () => {
    const backdate = await installBackdating();
    [owner, billing, admin] = [
      await signUp(q.http, 'owner'),
      await signUp(q.http, 'billing'),
      await signUp(q.http, 'admin'),
    ];
    orgId = randomUUID();
    const e = (event: DomainEvent): NewEvent => ({
      id: randomUUID(),
      type: event.type,
      version: currentVersionOf(event.type),
      data: event.data,
      metadata: { orgId, actor: { kind: 'user', id: owner.userId }, correlationId: randomUUID(), causationId: null },
    });
    const joined = (u: TestUser, role: 'owner' | 'billing' | 'admin') =>
      e({ type: 'member.joined', data: { userId: u.userId, email: u.email, role, invitationId: null } });
    // In time order, which is also the order they are appended in (so also position order).
    const history: Array<[name: string, stream: string, at: string, event: NewEvent]> = [
      [
        'created',
        streamIds.organization(orgId),
        '2025-02-20T09:00:00.000Z',
        e({
          type: 'organization.created',
          data: {
            orgId,
            name: 'Backdated',
            plan: 'business',
            ownerUserId: owner.userId,
            ownerEmail: owner.email,
            trialEndsAt: '2025-03-06T09:00:00.000Z',
          },
        }),
      ],
      ['ownerJoined', streamIds.organization(orgId), '2025-02-20T09:00:00.000Z', joined(owner, 'owner')],
      ['billingJoined', streamIds.organization(orgId), '2025-02-20T09:01:00.000Z', joined(billing, 'billing')],
      ['adminJoined', streamIds.organization(orgId), '2025-02-20T09:02:00.000Z', joined(admin, 'admin')],
      [
        'bought10',
        streamIds.seats(orgId),
        '2025-02-21T10:00:00.000Z',
        e({ type: 'seats.purchased', data: { quantity: 10, total: 10 } }),
      ],
      [
        'assigned',
        streamIds.seats(orgId),
        '2025-02-21T10:00:30.000Z',
        e({ type: 'seat.assigned', data: { userId: owner.userId } }),
      ],
      [
        'bought15',
        streamIds.seats(orgId),
        '2025-03-11T00:00:00.000Z',
        e({ type: 'seats.purchased', data: { quantity: 5, total: 15 } }),
      ],
      [
        'toPro',
        streamIds.organization(orgId),
        '2025-03-21T12:00:00.000Z',
        e({ type: 'organization.plan_changed', data: { from: 'business', to: 'pro' } }),
      ],
      [
        'released',
        streamIds.seats(orgId),
        '2025-03-25T00:00:00.000Z',
        e({ type: 'seats.released', data: { quantity: 3, total: 12 } }),
      ],
      [
        'unassigned',
        streamIds.seats(orgId),
        '2025-03-28T00:00:00.000Z',
        e({ type: 'seat.unassigned', data: { userId: owner.userId, reason: 'unassigned' } }),
      ],
    ];
    await backdate(new Map(history.map(([, , at, event]) => [event.id, at])));
    let last = 0n;
    for (const [, stream, , event] of history) {
      const { position } = await q.app.store.appendToStream(stream, [event]);
      last = position;
    }
    ids = Object.fromEntries(history.map(([name, , , event]) => [name, event.id]));
    // 607,510 s of meeting minutes in March (10,125.17 minutes, billed 10,126), participant
    // minutes beside them (not billed), and meeting minutes of February and of another
    // organization, which must not count.
    const host = owner.userId;
    const session = randomUUID();
    const march = await appendUsage(q.app.store, orgId, [
      ...Array.from({ length: 7 }, (_, i) => ({
        meter: 'meeting_minutes' as const,
        sessionId: session,
        hostUserId: host,
        from: `2025-03-0${i + 1}T00:00:00.000Z`,
        seconds: 86_400,
      })),
      {
        meter: 'meeting_minutes',
        sessionId: session,
        hostUserId: host,
        from: '2025-03-20T10:00:00.000Z',
        seconds: 2_710,
      },
      {
        meter: 'participant_minutes',
        sessionId: session,
        hostUserId: host,
        from: '2025-03-20T10:00:00.000Z',
        seconds: 9_999,
      },
      {
        meter: 'meeting_minutes',
        sessionId: session,
        hostUserId: host,
        from: '2025-04-01T00:00:00.000Z',
        seconds: 600,
      },
    ]);
    const other = await appendUsage(q.app.store, randomUUID(), [
      {
        meter: 'meeting_minutes',
        sessionId: session,
        hostUserId: host,
        from: '2025-03-20T10:00:00.000Z',
        seconds: 50_000,
      },
    ]);
    minPosition = [last, BigInt(march.position), BigInt(other.position)].reduce((a, b) => (a > b ? a : b)).toString();
  }, 120_000);

  it('prorates each stretch by the second and shares the rounded subtotal without losing a cent', async () => {
    const preview = await q.http.query('billing.preview', { orgId, period: '202503', minPosition }, as(owner));
    // Exact cents of March (31 days): 240000/31, 378000/31, 63000/31, 100800/31; their sum
    // 781800/31 = 25219.35 rounds to 25219, and the two cents over the floors go to the
    // largest fractions (.94 and .61).
    expect(seatLines(preview).map((l) => [l.plan, l.quantity, l.from, l.to, l.seconds, l.amount, l.sources])).toEqual([
      [
        'business',
        10,
        '2025-03-01T00:00:00.000Z',
        '2025-03-11T00:00:00.000Z',
        864_000,
        7742,
        { eventId: ids.bought10, quantityEventId: ids.bought10, planEventId: ids.created },
      ],
      [
        'business',
        15,
        '2025-03-11T00:00:00.000Z',
        '2025-03-21T12:00:00.000Z',
        907_200,
        12193,
        { eventId: ids.bought15, quantityEventId: ids.bought15, planEventId: ids.created },
      ],
      [
        'pro',
        15,
        '2025-03-21T12:00:00.000Z',
        '2025-03-25T00:00:00.000Z',
        302_400,
        2032,
        { eventId: ids.toPro, quantityEventId: ids.bought15, planEventId: ids.toPro },
      ],
      [
        'pro',
        12,
        '2025-03-25T00:00:00.000Z',
        '2025-04-01T00:00:00.000Z',
        604_800,
        3252,
        { eventId: ids.released, quantityEventId: ids.released, planEventId: ids.toPro },
      ],
    ]);
    // Minutes at the plan in force at the month's end (pro: 10,000 included, 2 cents beyond).
    expect(preview.lines.slice(4)).toEqual([
      {
        kind: 'included_minutes',
        plan: 'pro',
        minutes: 10_000,
        includedMinutes: 10_000,
        amount: 0,
        sources: { planEventId: ids.toPro },
      },
      {
        kind: 'overage_minutes',
        plan: 'pro',
        minutes: 126,
        unitAmount: 2,
        amount: 252,
        sources: { planEventId: ids.toPro },
      },
    ]);
    expect(preview).toMatchObject({
      orgId,
      period: '202503',
      currency: 'usd',
      from: '2025-03-01T00:00:00.000Z',
      to: '2025-04-01T00:00:00.000Z',
      monthSeconds: 2_678_400,
      monthEnded: true,
      planAtEnd: { plan: 'pro', eventId: ids.toPro },
      meetingSeconds: 607_510,
      billableMinutes: 10_126,
      usage: { meter: 'meeting_minutes', seconds: 607_510, records: 8 },
      totals: { seats: 25_219, usage: 252, total: 25_471 },
    });
    expect(preview.seatHolders).toEqual([
      {
        userId: owner.userId,
        from: '2025-02-21T10:00:30.000Z',
        to: '2025-03-28T00:00:00.000Z',
        assignedEventId: ids.assigned,
        unassignedEventId: ids.unassigned,
        reason: 'unassigned',
      },
    ]);
  });

  it('prices the month of the creation from the creation on, and a month before it as empty', async () => {
    // February 2025 (28 days): business, no seats from the 20th, 10 from 10:00 on the 21st:
    // 24000 × 655,200 / 2,419,200 = 6500 exactly.
    const feb = await q.http.query('billing.preview', { orgId, period: '202502', minPosition }, as(billing));
    expect(seatLines(feb).map((l) => [l.quantity, l.from, l.seconds, l.amount])).toEqual([
      [0, '2025-02-20T09:00:00.000Z', 90_000, 0],
      [10, '2025-02-21T10:00:00.000Z', 655_200, 6500],
    ]);
    expect(feb.totals).toEqual({ seats: 6500, usage: 0, total: 6500 });
    const jan = await q.http.query('billing.preview', { orgId, period: '202501' }, as(owner));
    expect(jan).toMatchObject({
      lines: [],
      planAtEnd: null,
      seatHolders: [],
      totals: { seats: 0, usage: 0, total: 0 },
    });
  });

  it('is a plain HTTP GET of /trpc/billing.preview', async () => {
    const res = await getRoute(
      q.baseUrl,
      '/trpc/billing.preview',
      { input: JSON.stringify({ orgId, period: '202503' }) },
      as(owner),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { data: { totals: unknown } } };
    expect(body.result.data.totals).toEqual({ seats: 25_219, usage: 252, total: 25_471 });
  });

  it('refuses other roles, strangers, a future month and a malformed one, revealing nothing', async () => {
    const forbidden = await failure(q.http.query('billing.preview', { orgId, period: '202503' }, as(admin)));
    expect(forbidden).toMatchObject({ status: 403, code: 'FORBIDDEN', reason: 'auth.forbidden' });
    expect(forbidden.message).toContain('billing.preview');
    const stranger = await signUp(q.http, 'stranger');
    const next = new Date();
    next.setUTCMonth(next.getUTCMonth() + 1, 1);
    const future = usagePeriodOf(next);
    for (const period of ['202503', future]) {
      const f = await failure(q.http.query('billing.preview', { orgId, period }, as(stranger)));
      expect(f).toMatchObject({ status: 404, code: 'NOT_FOUND', reason: 'organization.not_found' });
    }
    const f = await failure(q.http.query('billing.preview', { orgId, period: future }, as(owner)));
    expect(f).toMatchObject({ status: 400, code: 'BAD_REQUEST', reason: 'usage.period_in_future' });
    const bad = await failure(q.http.query('billing.preview', { orgId, period: '2025-03' }, as(owner)));
    expect(bad).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(bad.fieldErrors?.map((e) => e.path)).toEqual(['period']);
    const anonymous = await failure(q.http.query('billing.preview', { orgId, period: '202503' }));
    expect(anonymous).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });
});
