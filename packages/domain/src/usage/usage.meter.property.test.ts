/**
 * Random meetings (joins, leaves, reconnects through other nodes, removals, node deaths whose
 * leaves are backdated, the host ending it) across a month's end, checked against a separate
 * second-by-second count of who was present, and metered incrementally as a live consumer
 * would (after each append, settled up to the backdating bound) against one pass over the
 * whole stream afterwards.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredSessionEvent, UsageInterval } from './usage.meter';
import { meterSession, nextSettledAt } from './usage.meter';

const SESSION = '00000000-0000-4000-8000-000000000051';
const ORG = '00000000-0000-4000-8000-00000000000a';
const PEOPLE = [1, 2, 3, 4].map((n) => `00000000-0000-4000-8000-00000000000${n}`);
const HOST = PEOPLE[0]!;
const NODES = ['a/1', 'b/1', 'c/1'];
// 22:00 UTC on January 31st: meetings run over the month's end.
const T0 = Date.parse('2025-01-31T22:00:00.000Z');
/** Most a leave may be backdated (a lost node's last heartbeat); the live meter settles this far behind. */
const BOUND_MS = 45_000;
const INTERVAL = 300;

/** Most two gateways' clocks disagree: a join may carry an instant a little before a leave already appended. */
const SKEW_MS = 2_000;

type Op =
  | { kind: 'join'; who: number; node: number; skewMs: number }
  | { kind: 'leave' | 'reconnect' | 'remove'; who: number; node: number }
  | { kind: 'nodeDeath'; node: number; backdateMs: number }
  | { kind: 'end' };
type Step = { dtMs: number; op: Op };

const stepArb: fc.Arbitrary<Step> = fc.record({
  // Often close together (within the clock skew), sometimes minutes apart.
  dtMs: fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 400_000 })),
  op: fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('join' as const),
        who: fc.nat(3),
        node: fc.nat(2),
        skewMs: fc.integer({ min: 0, max: SKEW_MS }),
      }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('leave' as const), who: fc.nat(3), node: fc.nat(2) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('reconnect' as const), who: fc.nat(3), node: fc.nat(2) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), who: fc.nat(3), node: fc.nat(2) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('nodeDeath' as const),
        node: fc.nat(2),
        backdateMs: fc.integer({ min: 0, max: BOUND_MS }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('end' as const) }) },
  ),
});

interface Appended {
  event: StoredSessionEvent;
  /** When it was appended (ms); its `at` may be earlier, by at most BOUND_MS. */
  clockMs: number;
}

/** A stream the session decider could have written for these steps. */
function streamOf(steps: readonly Step[]): Appended[] {
  let seq = 0;
  const nextId = () => `00000000-0000-4000-9000-${String(++seq).padStart(12, '0')}`;
  const out: Appended[] = [];
  const push = (clockMs: number, e: Omit<StoredSessionEvent, 'id'>) =>
    out.push({ event: { ...e, id: nextId() } as StoredSessionEvent, clockMs });
  const present = new Map<string, { node: string; joinedMs: number }>();
  const removed = new Set<string>();
  let clock = T0;
  push(clock, {
    type: 'session.scheduled',
    data: { sessionId: SESSION, orgId: ORG, title: 'Random', hostUserId: HOST, scheduledFor: null },
  });
  for (const { dtMs, op } of steps) {
    clock += dtMs;
    const at = new Date(clock).toISOString();
    if (op.kind === 'end') {
      push(clock, { type: 'session.ended', data: { reason: 'ended_by_host', by: HOST, at } });
      break;
    }
    if (op.kind === 'nodeDeath') {
      const node = NODES[op.node]!;
      for (const [who, p] of [...present]) {
        if (p.node !== node) continue;
        // The decider never records a leave before the join.
        const leaveMs = Math.max(p.joinedMs, clock - op.backdateMs);
        push(clock, {
          type: 'participant.left',
          data: { participantId: who, reason: 'disconnected', at: new Date(leaveMs).toISOString() },
        });
        present.delete(who);
      }
      continue;
    }
    const who = PEOPLE[op.who]!;
    const node = NODES[op.node]!;
    const here = present.get(who);
    if (op.kind === 'join' && !here && !removed.has(who)) {
      const joinedMs = clock - op.skewMs;
      present.set(who, { node, joinedMs });
      push(clock, {
        type: 'participant.joined',
        data: {
          participantId: who,
          displayName: 'p',
          isHost: who === HOST,
          at: new Date(joinedMs).toISOString(),
          node,
        },
      });
    } else if (op.kind === 'leave' && here) {
      present.delete(who);
      push(clock, { type: 'participant.left', data: { participantId: who, reason: 'left', at } });
    } else if (op.kind === 'reconnect' && here && here.node !== node) {
      here.node = node;
      push(clock, { type: 'participant.reconnected', data: { participantId: who, node, at } });
    } else if (op.kind === 'remove' && here && who !== HOST) {
      present.delete(who);
      removed.add(who);
      push(clock, { type: 'participant.removed', data: { participantId: who, by: HOST, at } });
    }
  }
  return out;
}

/** Who was present, second by second, from the events alone: the separate count. */
function presenceBySecond(events: readonly StoredSessionEvent[], horizon: number) {
  const since = new Map<string, number>();
  /** The second each person last left: a rejoin stamped earlier (clock skew) counts from there. */
  const leftAt = new Map<string, number>();
  const seconds = new Map<string, Set<number>>();
  const mark = (who: string, from: number, to: number) => {
    const set = seconds.get(who) ?? new Set<number>();
    for (let s = from; s < to; s++) set.add(s);
    seconds.set(who, set);
  };
  const sec = (iso: string) => Math.floor(Date.parse(iso) / 1000);
  for (const e of events) {
    if (e.type === 'participant.joined' && !since.has(e.data.participantId))
      since.set(e.data.participantId, Math.max(sec(e.data.at), leftAt.get(e.data.participantId) ?? -Infinity));
    if (e.type === 'participant.left' || e.type === 'participant.removed') {
      const from = since.get(e.data.participantId);
      if (from !== undefined) {
        const to = Math.max(from, sec(e.data.at));
        mark(e.data.participantId, from, to);
        leftAt.set(e.data.participantId, to);
      }
      since.delete(e.data.participantId);
    }
    if (e.type === 'session.ended') {
      for (const [who, from] of since) mark(who, from, sec(e.data.at));
      since.clear();
    }
  }
  for (const [who, from] of since) mark(who, from, horizon);
  const anyone = new Set<number>();
  for (const set of seconds.values()) for (const s of set) anyone.add(s);
  return { seconds, anyone };
}

const total = (intervals: readonly UsageInterval[], filter: (i: UsageInterval) => boolean) =>
  intervals.filter(filter).reduce((sum, i) => sum + i.seconds, 0);

describe('meterSession on random meetings', () => {
  it('meters, to the second, the time the events say each person and the meeting were in it', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 40 }), (steps) => {
        const appended = streamOf(steps);
        const events = appended.map((a) => a.event);
        // A settled instant on a cut point after everything: open stints are metered up to it.
        const lastClock = appended[appended.length - 1]!.clockMs;
        const horizon = (Math.floor(lastClock / 1000 / INTERVAL) + 2) * INTERVAL;
        const intervals = meterSession(events, new Date(horizon * 1000));
        const oracle = presenceBySecond(events, horizon);

        for (const who of PEOPLE) {
          const metered = total(intervals, (i) => i.meter === 'participant_minutes' && i.participantId === who);
          expect(metered).toBe(oracle.seconds.get(who)?.size ?? 0);
        }
        expect(total(intervals, (i) => i.meter === 'meeting_minutes')).toBe(oracle.anyone.size);
        expect(new Set(intervals.map((i) => i.key)).size).toBe(intervals.length);
        for (const i of intervals) {
          // No interval spans a cut point or a month.
          expect(Math.floor(Date.parse(i.from) / 1000 / INTERVAL)).toBe(
            Math.floor((Date.parse(i.to) / 1000 - 1) / INTERVAL),
          );
          expect(i.period).toBe(i.from.slice(0, 7).replace('-', ''));
          expect(i.seconds).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('says when the next interval becomes final: nothing new before that instant, something new at it', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), fc.nat(3_000), (steps, lagSeconds) => {
        const appended = streamOf(steps);
        const events = appended.map((a) => a.event);
        const settled = new Date(Math.floor(appended[appended.length - 1]!.clockMs / 1000 - lagSeconds) * 1000);
        const keys = (at: Date) => new Set(meterSession(events, at).map((i) => i.key));
        const now = keys(settled);
        const due = nextSettledAt(events, settled);
        if (due === null) {
          // Final already: however much later, nothing more.
          expect(keys(new Date(settled.getTime() + 40 * 86_400_000))).toEqual(now);
          return;
        }
        expect(due.getTime()).toBeGreaterThan(settled.getTime());
        expect(keys(new Date(due.getTime() - 1000))).toEqual(now);
        const then = keys(due);
        expect(then.size).toBeGreaterThan(now.size);
        for (const key of now) expect(then.has(key)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('metered live after each append and replayed afterwards, writes each interval once, the same both times', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 40 }), (steps) => {
        const appended = streamOf(steps);
        const written = new Map<string, UsageInterval>();
        const write = (intervals: readonly UsageInterval[]) => {
          for (const i of intervals) {
            const before = written.get(i.key);
            // A second write under the same id must be the same interval: the store keeps the first.
            if (before) expect(i).toEqual(before);
            else written.set(i.key, i);
          }
        };
        for (let n = 1; n <= appended.length; n++) {
          const clockMs = appended[n - 1]!.clockMs;
          write(
            meterSession(
              appended.slice(0, n).map((a) => a.event),
              new Date(clockMs - BOUND_MS),
            ),
          );
        }
        const lastClock = appended[appended.length - 1]!.clockMs;
        const horizon = new Date((Math.floor(lastClock / 1000 / INTERVAL) + 2) * INTERVAL * 1000);
        const events = appended.map((a) => a.event);
        write(meterSession(events, horizon));

        // A second instance replaying everything derives nothing the first did not write.
        const replay = meterSession(events, horizon);
        expect(new Set(replay.map((i) => i.key))).toEqual(new Set(written.keys()));
        for (const i of replay) expect(i).toEqual(written.get(i.key));
      }),
      { numRuns: 200 },
    );
  });
});
