/**
 * Random seat and plan histories (no-op changes, clocks apart, closing, the same event stored
 * again under a later position), applied in random batches the way the projector applies them:
 * a batch whose events all come after the last stretch (the user's last holding) goes on from
 * it, folding only the events after its position; anything else (a late event, a copy of an
 * event folded before, nothing folded yet) folds the whole history again. After every batch the
 * rows equal folding every event applied so far at once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PLANS } from '../plans';
import {
  SEAT_HOLDING_EVENT_TYPES,
  SEAT_TIMELINE_EVENT_TYPES,
  foldSeatHoldings,
  foldSeatTimeline,
  type SeatHolding,
  type SeatStretch,
  type TimelineEvent,
} from './seat-timeline';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const USERS = [id(9001), id(9002), id(9003)];
const START = Date.UTC(2025, 2, 1);

const KINDS = ['purchased', 'released', 'created', 'plan', 'closed', 'assigned', 'unassigned', 'copy'] as const;
const stepArb = (kinds: ReadonlyArray<(typeof KINDS)[number]>) =>
  fc.record({
    kind: fc.constantFrom(...kinds),
    total: fc.integer({ min: 0, max: 3 }),
    plan: fc.constantFrom(...PLANS),
    user: fc.integer({ min: 0, max: USERS.length - 1 }),
    // A copy repeats the event this many steps back (modulo what exists).
    back: fc.nat(),
    // Clocks apart: an event may say it happened a little before the one logged before it.
    dtMs: fc.oneof(fc.integer({ min: -2_000, max: 0 }), fc.integer({ min: 0, max: 86_400_000 })),
    gap: fc.integer({ min: 1, max: 3 }),
  });
type Step = ReturnType<typeof stepArb> extends fc.Arbitrary<infer S> ? S : never;

function history(steps: readonly Step[]): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  let position = 0n;
  let at = START;
  steps.forEach((s, i) => {
    position += BigInt(s.gap);
    at += s.dtMs;
    const when = new Date(at).toISOString();
    const next = (event: TimelineEvent['event']) => out.push({ id: id(i + 1), position, at: when, event });
    switch (s.kind) {
      case 'copy': {
        const original = out[out.length - 1 - (s.back % Math.max(out.length, 1))];
        if (original) out.push({ ...original, position });
        return;
      }
      case 'purchased':
      case 'released':
        return next({ type: `seats.${s.kind}`, data: { quantity: 1, total: s.total } });
      case 'created':
        return next({
          type: 'organization.created',
          data: {
            orgId: id(1),
            name: 'Acme',
            plan: s.plan,
            ownerUserId: USERS[0]!,
            ownerEmail: 'o@acme.test',
            trialEndsAt: '2025-04-01T00:00:00.000Z',
          },
        });
      case 'plan':
        return next({ type: 'organization.plan_changed', data: { from: 'free', to: s.plan } });
      case 'closed':
        return next({ type: 'organization.closed', data: {} });
      case 'assigned':
        return next({ type: 'seat.assigned', data: { userId: USERS[s.user]! } });
      case 'unassigned':
        return next({
          type: 'seat.unassigned',
          data: { userId: USERS[s.user]!, reason: s.user === 2 ? 'member_removed' : 'unassigned' },
        });
    }
  });
  return out;
}

const TIMELINE: ReadonlySet<string> = new Set(SEAT_TIMELINE_EVENT_TYPES);
const HOLDING: ReadonlySet<string> = new Set(SEAT_HOLDING_EVENT_TYPES);
const userOf = (e: TimelineEvent) =>
  e.event.type === 'seat.assigned' || e.event.type === 'seat.unassigned' ? e.event.data.userId : undefined;
const byPosition = <T extends { position: bigint }>(rows: readonly T[]) =>
  [...rows].sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));

/**
 * Goes on from `last` (the last row at the batch's start) when every event of the batch comes
 * after it and no event after it repeats an id from up to it; otherwise folds everything.
 */
function goesOn(
  last: { position: bigint } | undefined,
  batch: readonly TimelineEvent[],
  applied: readonly TimelineEvent[],
): TimelineEvent[] | undefined {
  if (!last || batch.some((e) => e.position <= last.position)) return undefined;
  const before = new Set(applied.filter((e) => e.position <= last.position).map((e) => e.id));
  const after = applied.filter((e) => e.position > last.position);
  return after.some((e) => before.has(e.id)) ? undefined : after;
}

/** Cuts `events` into batches and holds some back to apply late, as retried dead letters are. */
const scheduleArb = (n: number) =>
  fc.record({
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, n - 1) }), { maxLength: 8 }),
    late: fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, n - 1) }), { maxLength: 3 }),
  });

function batchesOf(events: readonly TimelineEvent[], s: { cuts: number[]; late: number[] }): TimelineEvent[][] {
  const onTime = events.filter((_, i) => !s.late.includes(i));
  const cuts = [0, ...[...s.cuts].sort((a, b) => a - b).filter((c) => c < onTime.length), onTime.length];
  const batches = cuts.slice(1).map((c, i) => onTime.slice(cuts[i], c));
  return [...batches.filter((b) => b.length > 0), ...s.late.filter((i) => i < events.length).map((i) => [events[i]!])];
}

const historyAndSchedule = (kinds: readonly (typeof KINDS)[number][]) =>
  fc
    .array(stepArb(kinds), { minLength: 1, maxLength: 40 })
    .map(history)
    .filter((events) => events.length > 0)
    .chain((events) => fc.tuple(fc.constant(events), scheduleArb(events.length)));

describe('seat timeline folds, going on from the last row (property)', () => {
  it('the stretches after every batch are those of folding every event applied at once', () => {
    let wentOn = 0;
    fc.assert(
      fc.property(
        historyAndSchedule(KINDS.filter((k) => k !== 'assigned' && k !== 'unassigned')),
        ([events, schedule]) => {
          const timeline = events.filter((e) => TIMELINE.has(e.event.type));
          let rows: SeatStretch[] = [];
          const applied: TimelineEvent[] = [];
          for (const batch of batchesOf(timeline, schedule)) {
            applied.push(...batch);
            const last = rows.at(-1);
            const after = goesOn(last, batch, applied);
            if (last && after) {
              wentOn++;
              // Any order: the fold sorts.
              rows = [...rows.slice(0, -1), ...foldSeatTimeline([...after].reverse(), last)];
            } else rows = foldSeatTimeline(applied);
            expect(rows).toEqual(foldSeatTimeline(applied));
          }
        },
      ),
      { numRuns: 500 },
    );
    expect(wentOn).toBeGreaterThan(200);
  });

  it('the holdings after every batch are those of folding every event applied at once, user by user', () => {
    let wentOn = 0;
    fc.assert(
      fc.property(historyAndSchedule(['assigned', 'unassigned', 'copy']), ([events, schedule]) => {
        const holdings = events.filter((e) => HOLDING.has(e.event.type));
        let rows: SeatHolding[] = [];
        const applied: TimelineEvent[] = [];
        for (const batch of batchesOf(holdings, schedule)) {
          applied.push(...batch);
          for (const user of new Set(batch.map(userOf))) {
            const mine = applied.filter((e) => userOf(e) === user);
            const others = rows.filter((h) => h.userId !== user);
            const last = byPosition(rows.filter((h) => h.userId === user)).at(-1);
            const after = goesOn(
              last,
              batch.filter((e) => userOf(e) === user),
              mine,
            );
            if (last && after) {
              wentOn++;
              const kept = rows.filter((h) => h.userId === user && h.position < last.position);
              rows = [...others, ...kept, ...foldSeatHoldings(after, [last])];
            } else rows = [...others, ...foldSeatHoldings(mine)];
          }
          expect(byPosition(rows)).toEqual(byPosition(foldSeatHoldings(applied)));
        }
      }),
      { numRuns: 500 },
    );
    expect(wentOn).toBeGreaterThan(200);
  });

  it('goes on from a copy of the stretch given, which it leaves as it was', () => {
    const last: SeatStretch = {
      eventId: id(1),
      position: 10n,
      quantity: 2,
      plan: 'pro',
      quantityEventId: id(1),
      planEventId: id(0),
      from: '2025-03-01T00:00:00.000Z',
      to: null,
      toEventId: null,
    };
    const frozen = structuredClone(last);
    const released: TimelineEvent = {
      id: id(2),
      position: 11n,
      at: '2025-03-02T00:00:00.000Z',
      event: { type: 'seats.released', data: { quantity: 1, total: 1 } },
    };
    expect(foldSeatTimeline([released], last).map((s) => [s.eventId, s.quantity, s.to])).toEqual([
      [id(1), 2, released.at],
      [id(2), 1, null],
    ]);
    expect(last).toEqual(frozen);
  });
});
