/**
 * Random seat timelines across a month (quantity and plan changes at any millisecond, the
 * organization sometimes closing), checked against the exact rational amounts: no cent is lost
 * or invented across the lines, each line is within a cent of its exact amount, and cutting an
 * unchanged quantity and plan into pieces never changes what a month costs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PLANS, PRICES } from '../plans';
import { allocateRounded, invoicePreview, periodBounds, type PreviewStretch, type SeatLine } from './invoice-preview';

const PERIODS = ['202402', '202502', '202504', '202512'];
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const timelineArb = fc.record({
  period: fc.constantFrom(...PERIODS),
  // Milliseconds from 40 days before the month's start; up to 12 changes.
  firstMs: fc.integer({ min: 0, max: 40 * 86_400_000 }),
  changes: fc.array(
    fc.record({
      dtMs: fc.oneof(fc.integer({ min: 0, max: 1_500 }), fc.integer({ min: 0, max: 10 * 86_400_000 })),
      quantity: fc.integer({ min: 0, max: 10_000 }),
      plan: fc.constantFrom(...PLANS),
    }),
    { minLength: 1, maxLength: 12 },
  ),
  closesAfterMs: fc.option(fc.integer({ min: 0, max: 20 * 86_400_000 }), { nil: undefined }),
});

type Timeline = typeof timelineArb extends fc.Arbitrary<infer T> ? T : never;

function stretchesOf(t: Timeline): PreviewStretch[] {
  const start = periodBounds(t.period).from - 40 * 86_400_000;
  let at = start + t.firstMs;
  const out: PreviewStretch[] = [];
  t.changes.forEach((c, i) => {
    at += i === 0 ? 0 : c.dtMs;
    const prev = out.at(-1);
    if (prev) prev.to = new Date(at).toISOString();
    out.push({
      from: new Date(at).toISOString(),
      to: null,
      quantity: c.quantity,
      plan: c.plan,
      eventId: id(i + 1),
      quantityEventId: id(i + 1),
      planEventId: id(i + 1),
    });
  });
  if (t.closesAfterMs !== undefined) out.at(-1)!.to = new Date(at + t.closesAfterMs).toISOString();
  return out;
}

const seatLines = (p: ReturnType<typeof invoicePreview>) => p.lines.filter((l): l is SeatLine => l.kind === 'seats');

describe('invoicePreview (property)', () => {
  it('seat lines add up to the exact total rounded half up once, each within a cent of its exact amount', () => {
    fc.assert(
      fc.property(timelineArb, (t) => {
        const p = invoicePreview({ period: t.period, stretches: stretchesOf(t), meetingSeconds: 0 });
        const lines = seatLines(p);
        const exactNumerators = lines.map((l) => BigInt(l.unitAmount) * BigInt(l.quantity) * BigInt(l.seconds));
        const d = BigInt(p.monthSeconds);
        const exactSum = exactNumerators.reduce((a, b) => a + b, 0n);
        expect(BigInt(p.totals.seats)).toBe((2n * exactSum + d) / (2n * d));
        expect(lines.reduce((n, l) => n + l.amount, 0)).toBe(p.totals.seats);
        for (const [i, l] of lines.entries()) {
          // |amount − exact| < 1 ⇔ |amount·d − numerator| < d
          const diff = BigInt(l.amount) * d - exactNumerators[i]!;
          expect(diff < d && -diff < d, `line ${i}`).toBe(true);
        }
        expect(lines.reduce((n, l) => n + l.seconds, 0)).toBeLessThanOrEqual(p.monthSeconds);
        expect(p.totals.total).toBe(p.totals.seats + p.totals.usage);
      }),
      { numRuns: 500 },
    );
  });

  it('a month of one quantity and plan costs its monthly price, however the stretch is cut', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PERIODS),
        fc.constantFrom(...PLANS),
        fc.integer({ min: 0, max: 10_000 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 31 * 86_400_000 - 1 }), { maxLength: 20 }),
        (period, plan, quantity, cutsMs) => {
          const { from, to } = periodBounds(period);
          const cuts = [...new Set(cutsMs.map((c) => from + (c % (to - from))))].sort((a, b) => a - b);
          const bounds = [from - 3_600_000, ...cuts.filter((c) => c > from), to + 3_600_000];
          const stretches: PreviewStretch[] = bounds.slice(0, -1).map((b, i) => ({
            from: new Date(b).toISOString(),
            to: new Date(bounds[i + 1]!).toISOString(),
            quantity,
            plan,
            eventId: id(i + 1),
            quantityEventId: id(1),
            planEventId: id(1),
          }));
          const p = invoicePreview({ period, stretches, meetingSeconds: 0 });
          expect(p.totals.seats).toBe(PRICES[plan].seatMonthly * quantity);
          expect(seatLines(p).reduce((n, l) => n + l.seconds, 0)).toBe(p.monthSeconds);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('allocateRounded shares exactly the rounded sum, each share within one of its exact value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 13n }), { maxLength: 30 }),
        fc.bigInt({ min: 1n, max: 10n ** 7n }),
        (numerators, d) => {
          const shares = allocateRounded(numerators, d);
          const sum = numerators.reduce((a, b) => a + b, 0n);
          expect(BigInt(shares.reduce((a, b) => a + b, 0))).toBe((2n * sum + d) / (2n * d));
          shares.forEach((s, i) => {
            const diff = BigInt(s) * d - numerators[i]!;
            expect(diff < d && -diff < d).toBe(true);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
