import { describe, expect, it } from 'vitest';
import { PRICES } from '../plans';
import { allocateRounded, invoicePreview, periodBounds, type PreviewStretch, type SeatLine } from './invoice-preview';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const MARCH_SECONDS = 31 * 86_400;

/**
 * March 2025: business with 10 seats from February, 15 seats from the 11th, pro from noon on
 * the 21st, 12 seats from the 25th.
 */
const march: PreviewStretch[] = [
  {
    from: '2025-02-20T09:00:00.000Z',
    to: '2025-02-21T10:00:00.000Z',
    quantity: 0,
    plan: 'business',
    eventId: id(1),
    quantityEventId: null,
    planEventId: id(1),
  },
  {
    from: '2025-02-21T10:00:00.000Z',
    to: '2025-03-11T00:00:00.000Z',
    quantity: 10,
    plan: 'business',
    eventId: id(2),
    quantityEventId: id(2),
    planEventId: id(1),
  },
  {
    from: '2025-03-11T00:00:00.000Z',
    to: '2025-03-21T12:00:00.000Z',
    quantity: 15,
    plan: 'business',
    eventId: id(3),
    quantityEventId: id(3),
    planEventId: id(1),
  },
  {
    from: '2025-03-21T12:00:00.000Z',
    to: '2025-03-25T00:00:00.000Z',
    quantity: 15,
    plan: 'pro',
    eventId: id(4),
    quantityEventId: id(3),
    planEventId: id(4),
  },
  {
    from: '2025-03-25T00:00:00.000Z',
    to: null,
    quantity: 12,
    plan: 'pro',
    eventId: id(5),
    quantityEventId: id(5),
    planEventId: id(4),
  },
];

const seatLines = (p: ReturnType<typeof invoicePreview>) => p.lines.filter((l): l is SeatLine => l.kind === 'seats');

describe('invoicePreview', () => {
  it('prorates each stretch by the second and shares the rounded subtotal by largest remainder', () => {
    const p = invoicePreview({ period: '202503', stretches: march, meetingSeconds: 607_510 });
    // Exact cents: 240000/31, 378000/31, 63000/31, 100800/31 (7741.94, 12193.55, 2032.26,
    // 3251.61); 781800/31 = 25219.35 rounds to 25219; floors add to 25217 and the two cents
    // left go to the largest fractions, the first and the last line.
    expect(seatLines(p).map((l) => [l.plan, l.quantity, l.from, l.to, l.seconds, l.unitAmount, l.amount])).toEqual([
      ['business', 10, '2025-03-01T00:00:00.000Z', '2025-03-11T00:00:00.000Z', 864_000, 2400, 7742],
      ['business', 15, '2025-03-11T00:00:00.000Z', '2025-03-21T12:00:00.000Z', 907_200, 2400, 12193],
      ['pro', 15, '2025-03-21T12:00:00.000Z', '2025-03-25T00:00:00.000Z', 302_400, 1200, 2032],
      ['pro', 12, '2025-03-25T00:00:00.000Z', '2025-04-01T00:00:00.000Z', 604_800, 1200, 3252],
    ]);
    expect(seatLines(p).map((l) => l.sources)).toEqual([
      { eventId: id(2), quantityEventId: id(2), planEventId: id(1) },
      { eventId: id(3), quantityEventId: id(3), planEventId: id(1) },
      { eventId: id(4), quantityEventId: id(3), planEventId: id(4) },
      { eventId: id(5), quantityEventId: id(5), planEventId: id(4) },
    ]);
    expect(seatLines(p).every((l) => l.monthSeconds === MARCH_SECONDS)).toBe(true);
    // 607,510 s is 10,125.17 minutes, billed 10,126; pro includes 10,000 and charges 2 cents beyond.
    expect(p.lines.slice(4)).toEqual([
      {
        kind: 'included_minutes',
        plan: 'pro',
        minutes: 10_000,
        includedMinutes: 10_000,
        amount: 0,
        sources: { planEventId: id(4) },
      },
      {
        kind: 'overage_minutes',
        plan: 'pro',
        minutes: 126,
        unitAmount: 2,
        amount: 252,
        sources: { planEventId: id(4) },
      },
    ]);
    expect(p).toMatchObject({
      period: '202503',
      currency: 'usd',
      from: '2025-03-01T00:00:00.000Z',
      to: '2025-04-01T00:00:00.000Z',
      monthSeconds: MARCH_SECONDS,
      planAtEnd: { plan: 'pro', eventId: id(4) },
      meetingSeconds: 607_510,
      billableMinutes: 10_126,
      totals: { seats: 25_219, usage: 252, total: 25_471 },
    });
  });

  it('charges a month of one quantity and plan its monthly price exactly, whatever the month length', () => {
    const open: PreviewStretch = { ...march[1]!, from: '2024-12-31T23:59:59.000Z', to: null };
    for (const period of ['202501', '202502', '202503', '202602']) {
      const p = invoicePreview({ period, stretches: [open], meetingSeconds: 0 });
      expect(p.totals.seats, period).toBe(10 * PRICES.business.seatMonthly);
      expect(seatLines(p)[0]!.seconds, period).toBe(p.monthSeconds);
    }
    // A stretch that ended before the month, or starts after it, is not in it.
    expect(seatLines(invoicePreview({ period: '202504', stretches: march.slice(0, 2), meetingSeconds: 0 }))).toEqual(
      [],
    );
    expect(seatLines(invoicePreview({ period: '202501', stretches: march, meetingSeconds: 0 }))).toEqual([]);
  });

  it('bills nothing after the organization closed, and prices usage at the plan it closed on', () => {
    const closed: PreviewStretch[] = [{ ...march[1]!, to: '2025-03-16T12:00:00.000Z' }];
    const p = invoicePreview({ period: '202503', stretches: closed, meetingSeconds: 6_000_000 + 59 });
    expect(seatLines(p).map((l) => [l.seconds, l.amount])).toEqual([
      [(15 * 24 + 12) * 3600, Math.round((24000 * 15.5) / 31)],
    ]);
    expect(p.planAtEnd).toEqual({ plan: 'business', eventId: id(1) });
    // 100,001 minutes billed against 100,000 included, at a cent each.
    expect(p.lines.at(-1)).toMatchObject({ kind: 'overage_minutes', minutes: 1, unitAmount: 1, amount: 1 });
  });

  it('counts overage on the free plan without billing it, and nothing beyond unlimited minutes', () => {
    const free: PreviewStretch = { ...march[4]!, plan: 'free', from: '2025-01-01T00:00:00.000Z' };
    const p = invoicePreview({ period: '202503', stretches: [free], meetingSeconds: 700 * 60 });
    expect(p.lines).toEqual([
      expect.objectContaining({ kind: 'seats', amount: 0, unitAmount: 0 }),
      expect.objectContaining({ kind: 'included_minutes', minutes: 600, includedMinutes: 600 }),
      expect.objectContaining({ kind: 'overage_minutes', minutes: 100, unitAmount: null, amount: 0 }),
    ]);
    const e = invoicePreview({ period: '202503', stretches: [{ ...free, plan: 'enterprise' }], meetingSeconds: 1e7 });
    expect(e.lines.slice(1)).toEqual([
      expect.objectContaining({ kind: 'included_minutes', minutes: 166_667, includedMinutes: null }),
      expect.objectContaining({ kind: 'overage_minutes', minutes: 0, unitAmount: null, amount: 0 }),
    ]);
    expect(e.totals).toEqual({ seats: 12 * 4500, usage: 0, total: 12 * 4500 });
  });

  it('truncates boundaries to the second and leaves out stretches shorter than one', () => {
    const stretches: PreviewStretch[] = [
      { ...march[2]!, from: '2025-03-01T00:00:00.000Z', to: '2025-03-10T00:00:00.400Z' },
      { ...march[3]!, from: '2025-03-10T00:00:00.400Z', to: '2025-03-10T00:00:00.900Z' },
      { ...march[4]!, from: '2025-03-10T00:00:00.900Z' },
    ];
    const p = invoicePreview({ period: '202503', stretches, meetingSeconds: 0 });
    expect(seatLines(p).map((l) => [l.from, l.to])).toEqual([
      ['2025-03-01T00:00:00.000Z', '2025-03-10T00:00:00.000Z'],
      ['2025-03-10T00:00:00.000Z', '2025-04-01T00:00:00.000Z'],
    ]);
    expect(seatLines(p).reduce((n, l) => n + l.seconds, 0)).toBe(MARCH_SECONDS);
  });

  it('answers a month before any plan with no lines, and refuses usage in it', () => {
    const p = invoicePreview({ period: '202501', stretches: march, meetingSeconds: 0 });
    expect(p).toMatchObject({ lines: [], planAtEnd: null, totals: { seats: 0, usage: 0, total: 0 }, currency: 'usd' });
    expect(() => invoicePreview({ period: '202501', stretches: march, meetingSeconds: 60 })).toThrow(/no plan/);
  });

  it('refuses overlapping or backwards stretches, bad quantities and malformed periods', () => {
    expect(() => invoicePreview({ period: '202503', stretches: [march[4]!, march[3]!], meetingSeconds: 0 })).toThrow(
      /overlaps/,
    );
    expect(() =>
      invoicePreview({
        period: '202503',
        stretches: [{ ...march[2]!, to: '2025-03-01T00:00:00.000Z' }],
        meetingSeconds: 0,
      }),
    ).toThrow(/runs from/);
    expect(() =>
      invoicePreview({ period: '202503', stretches: [{ ...march[2]!, quantity: 1.5 }], meetingSeconds: 0 }),
    ).toThrow(/quantity/);
    expect(() => invoicePreview({ period: '202503', stretches: [], meetingSeconds: -1 })).toThrow(/meetingSeconds/);
    expect(() => invoicePreview({ period: '2025-03', stretches: [], meetingSeconds: 0 })).toThrow(/yyyymm/);
    expect(() => periodBounds('202513')).toThrow(/yyyymm/);
  });
});

describe('allocateRounded', () => {
  it('rounds the sum half up and gives the leftover units to the largest fractions, earlier first', () => {
    expect(allocateRounded([1n, 1n, 1n], 2n)).toEqual([1, 1, 0]);
    expect(allocateRounded([1n, 1n], 4n)).toEqual([1, 0]);
    expect(allocateRounded([1n, 1n, 1n], 4n)).toEqual([1, 0, 0]);
    expect(allocateRounded([10n, 20n], 10n)).toEqual([1, 2]);
    expect(allocateRounded([], 7n)).toEqual([]);
  });
});
