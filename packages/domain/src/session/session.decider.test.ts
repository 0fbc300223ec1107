import { describe, expect, it } from 'vitest';
import { given } from '../testing/given-when-then';
import { foldEvents } from '../decider';
import type { JoinSession, OrgFacts } from './session.commands';
import { presentParticipants, sessionDecider as decider } from './session.decider';
import type { SessionEvent } from './session.events';

const ORG = '00000000-0000-4000-8000-00000000000a';
const SESSION = '00000000-0000-4000-8000-000000000051';
const HOST = '00000000-0000-4000-8000-000000000001';
const BOB = '00000000-0000-4000-8000-000000000002';
const CAROL = '00000000-0000-4000-8000-000000000003';
const ADMIN = '00000000-0000-4000-8000-000000000004';
const T0 = new Date('2025-01-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();

const PRO: OrgFacts = { plan: 'pro', status: 'active' };
const FREE: OrgFacts = { plan: 'free', status: 'active' };

const scheduled: SessionEvent[] = [
  {
    type: 'session.scheduled',
    data: { sessionId: SESSION, orgId: ORG, title: 'Standup', hostUserId: HOST, scheduledFor: null },
  },
];
const joined = (participantId: string, seconds = 0, isHost = participantId === HOST): SessionEvent => ({
  type: 'participant.joined',
  data: { participantId, displayName: `p-${participantId.slice(-1)}`, isHost, at: iso(seconds) },
});
const live: SessionEvent[] = [...scheduled, { type: 'session.started', data: { at: iso(0) } }, joined(HOST)];
const withBob: SessionEvent[] = [...live, joined(BOB, 5)];

const joinCmd = (participantId: string, over: Partial<JoinSession> = {}): JoinSession => ({
  type: 'JoinSession',
  participantId,
  displayName: 'Bob',
  org: PRO,
  hostHoldsSeat: true,
  meetingSecondsUsed: 0,
  at: at(10),
  ...over,
});
const host = { userId: HOST, isOrgModerator: false };

describe('ScheduleSession', () => {
  const cmd = {
    type: 'ScheduleSession' as const,
    sessionId: SESSION,
    orgId: ORG,
    title: '  Weekly review ',
    hostUserId: HOST,
    scheduledFor: null,
    org: PRO,
    hostHoldsSeat: true,
    at: T0,
  };

  it('schedules an instant meeting with a trimmed title', () => {
    given(decider)
      .when(cmd)
      .then([
        {
          type: 'session.scheduled',
          data: { sessionId: SESSION, orgId: ORG, title: 'Weekly review', hostUserId: HOST, scheduledFor: null },
        },
      ]);
  });

  it('schedules one for later', () => {
    given(decider)
      .when({ ...cmd, scheduledFor: at(3600) })
      .then([
        {
          type: 'session.scheduled',
          data: { sessionId: SESSION, orgId: ORG, title: 'Weekly review', hostUserId: HOST, scheduledFor: iso(3600) },
        },
      ]);
  });

  it('refuses a host without a seat, an organization that is not trialing or active, a time in the past, a second schedule', () => {
    given(decider)
      .when({ ...cmd, hostHoldsSeat: false })
      .thenThrows('PRECONDITION_FAILED', 'session.host_without_seat');
    for (const status of ['past_due', 'suspended', 'closed'] as const) {
      const e = given(decider)
        .when({ ...cmd, org: { plan: 'pro', status } })
        .thenThrows('PRECONDITION_FAILED', 'session.organization_inactive');
      expect(e.message).toContain(status.replace('_', ' '));
    }
    given(decider)
      .when({ ...cmd, org: { plan: 'pro', status: 'trialing' } })
      .then([expect.objectContaining({ type: 'session.scheduled' })]);
    given(decider)
      .when({ ...cmd, scheduledFor: at(-3600) })
      .thenThrows('BAD_REQUEST', 'session.scheduled_in_past');
    given(decider)
      .when({ ...cmd, title: '   ' })
      .thenThrows('BAD_REQUEST', 'session.bad_title');
    given(decider, scheduled).when(cmd).thenThrows('CONFLICT', 'session.already_exists');
  });
});

describe('JoinSession', () => {
  it('starts the session on the first join, then only records joins', () => {
    given(decider, scheduled)
      .when(joinCmd(HOST, { displayName: 'Hana', at: T0 }))
      .then([
        { type: 'session.started', data: { at: iso(0) } },
        { type: 'participant.joined', data: { participantId: HOST, displayName: 'Hana', isHost: true, at: iso(0) } },
      ]);
    given(decider, live)
      .when(joinCmd(BOB))
      .then([
        { type: 'participant.joined', data: { participantId: BOB, displayName: 'Bob', isHost: false, at: iso(10) } },
      ]);
  });

  it("enforces the plan's participant cap (free: 4 at once)", () => {
    const four = [...withBob, joined(CAROL), joined(ADMIN)];
    const e = given(decider, four)
      .when(joinCmd('00000000-0000-4000-8000-000000000005', { org: FREE }))
      .thenThrows('PRECONDITION_FAILED', 'session.full');
    expect(e.message).toBe('The meeting is full: the free plan allows 4 participants at once.');
    // Someone leaving frees a place.
    const afterLeave: SessionEvent[] = [
      ...four,
      { type: 'participant.left', data: { participantId: CAROL, reason: 'left', at: iso(20) } },
    ];
    given(decider, afterLeave)
      .when(joinCmd('00000000-0000-4000-8000-000000000005', { org: FREE }))
      .then([expect.objectContaining({ type: 'participant.joined' })]);
  });

  it('refuses when the host has no seat or the organization is suspended', () => {
    given(decider, live)
      .when(joinCmd(BOB, { hostHoldsSeat: false }))
      .thenThrows('PRECONDITION_FAILED', 'session.host_without_seat');
    given(decider, live)
      .when(joinCmd(BOB, { org: { plan: 'pro', status: 'suspended' } }))
      .thenThrows('PRECONDITION_FAILED', 'session.organization_inactive');
  });

  it('a locked meeting admits nobody new, but readmits the host and people who were in it', () => {
    const locked: SessionEvent[] = [
      ...withBob,
      { type: 'session.locked', data: { by: HOST } },
      { type: 'participant.left', data: { participantId: BOB, reason: 'disconnected', at: iso(30) } },
      { type: 'participant.left', data: { participantId: HOST, reason: 'left', at: iso(31) } },
    ];
    given(decider, locked).when(joinCmd(CAROL)).thenThrows('PRECONDITION_FAILED', 'session.locked');
    given(decider, locked)
      .when(joinCmd(BOB))
      .then([expect.objectContaining({ type: 'participant.joined' })]);
    given(decider, locked)
      .when(joinCmd(HOST))
      .then([expect.objectContaining({ type: 'participant.joined' })]);
    given(decider, [...locked, { type: 'session.unlocked', data: { by: HOST } }])
      .when(joinCmd(CAROL))
      .then([expect.objectContaining({ type: 'participant.joined' })]);
  });

  it('a removed participant cannot rejoin', () => {
    const removed: SessionEvent[] = [
      ...withBob,
      { type: 'participant.removed', data: { participantId: BOB, by: HOST, at: iso(20) } },
    ];
    given(decider, removed).when(joinCmd(BOB)).thenThrows('FORBIDDEN', 'session.participant_removed');
  });

  it('refuses a second join while present, an ended session, an unknown one', () => {
    given(decider, withBob).when(joinCmd(BOB)).thenThrows('CONFLICT', 'session.already_joined');
    given(decider, [...withBob, { type: 'session.ended', data: { reason: 'ended_by_host', by: HOST, at: iso(40) } }])
      .when(joinCmd(CAROL))
      .thenThrows('PRECONDITION_FAILED', 'session.ended');
    given(decider).when(joinCmd(BOB)).thenThrows('NOT_FOUND', 'session.not_found');
  });
});

describe('JoinSession on the free plan, past its included minutes', () => {
  const INCLUDED_SECONDS = 600 * 60;
  const freeJoin = (participantId: string, meetingSecondsUsed: number | null, over: Partial<JoinSession> = {}) =>
    joinCmd(participantId, { org: FREE, meetingSecondsUsed, ...over });

  it('admits while a second of the included minutes is left', () => {
    given(decider, live)
      .when(freeJoin(BOB, INCLUDED_SECONDS - 1))
      .then([
        { type: 'participant.joined', data: { participantId: BOB, displayName: 'Bob', isHost: false, at: iso(10) } },
      ]);
  });

  it('refuses a new join once they are used, and says so in words', () => {
    const e = given(decider, live)
      .when(freeJoin(BOB, INCLUDED_SECONDS))
      .thenThrows('PRECONDITION_FAILED', 'session.minutes_exhausted');
    expect(e.message).toBe(
      'This organization has used the 600 meeting minutes its Free plan includes this month, so nobody new can ' +
        'join a meeting until 2025-02-01 (UTC). An owner or billing member can upgrade the plan to meet again now.',
    );
    expect(e.details).toEqual({
      plan: 'free',
      includedMinutes: 600,
      usedMinutes: 600,
      period: '202501',
      resetsAt: '2025-02-01T00:00:00.000Z',
    });
    // Past them (a meeting under way ran on), the used minutes are rounded up.
    expect(
      given(decider, live)
        .when(freeJoin(BOB, INCLUDED_SECONDS + 61))
        .thenThrows('PRECONDITION_FAILED', 'session.minutes_exhausted').details,
    ).toMatchObject({ usedMinutes: 602 });
  });

  it('refuses the host too: a host rejoining, or starting the meeting, is a new join', () => {
    given(decider, scheduled)
      .when(freeJoin(HOST, INCLUDED_SECONDS, { at: T0 }))
      .thenThrows('PRECONDITION_FAILED', 'session.minutes_exhausted');
    const hostLeft: SessionEvent[] = [
      ...withBob,
      { type: 'participant.left', data: { participantId: HOST, reason: 'disconnected', at: iso(20) } },
    ];
    given(decider, hostLeft)
      .when(freeJoin(HOST, INCLUDED_SECONDS, { at: at(30) }))
      .thenThrows('PRECONDITION_FAILED', 'session.minutes_exhausted');
  });

  it('does not cut off someone already in the meeting: a reconnect through another node goes on', () => {
    const bobOnA: SessionEvent[] = [
      ...live,
      {
        type: 'participant.joined',
        data: { participantId: BOB, displayName: 'p-2', isHost: false, at: iso(5), node: 'sfu-1/run-a' },
      },
    ];
    given(decider, bobOnA)
      .when(freeJoin(BOB, INCLUDED_SECONDS + 600, { node: 'sfu-2/run-b', at: at(30) }))
      .then([{ type: 'participant.reconnected', data: { participantId: BOB, node: 'sfu-2/run-b', at: iso(30) } }]);
    given(decider, bobOnA)
      .when(freeJoin(BOB, INCLUDED_SECONDS + 600))
      .thenThrows('CONFLICT', 'session.already_joined');
  });

  it('never cuts off a paid or unlimited plan, whose used seconds need not be read', () => {
    for (const plan of ['pro', 'business', 'enterprise'] as const) {
      given(decider, live)
        .when(joinCmd(BOB, { org: { plan, status: 'active' }, meetingSecondsUsed: null }))
        .then([expect.objectContaining({ type: 'participant.joined' })]);
      given(decider, live)
        .when(joinCmd(BOB, { org: { plan, status: 'active' }, meetingSecondsUsed: 10_000_000 * 60 }))
        .then([expect.objectContaining({ type: 'participant.joined' })]);
    }
  });

  it("fails loudly, admitting nobody, when the caller did not read a free organization's usage", () => {
    expect(() => decider.decide(freeJoin(BOB, null), given(decider, live).state)).toThrow(/needs meetingSecondsUsed/);
  });
});

describe('LeaveSession', () => {
  it('records a leave of someone present, and nothing else', () => {
    given(decider, withBob)
      .when({ type: 'LeaveSession', participantId: BOB, reason: 'left', at: at(20), decidedAt: at(20) })
      .then([{ type: 'participant.left', data: { participantId: BOB, reason: 'left', at: iso(20) } }]);
    given(decider, live)
      .when({ type: 'LeaveSession', participantId: BOB, reason: 'left', at: at(20), decidedAt: at(20) })
      .thenThrows('NOT_FOUND', 'session.not_present');
  });

  it('keeps the time of a leave reported late, and never records one before the join', () => {
    // Bob joined at 5 s; the SFU could only report at 90 s a disconnect it saw at 40 s.
    given(decider, withBob)
      .when({ type: 'LeaveSession', participantId: BOB, reason: 'disconnected', at: at(40), decidedAt: at(90) })
      .then([{ type: 'participant.left', data: { participantId: BOB, reason: 'disconnected', at: iso(40) } }]);
    given(decider, withBob)
      .when({ type: 'LeaveSession', participantId: BOB, reason: 'left', at: at(2), decidedAt: at(2) })
      .then([{ type: 'participant.left', data: { participantId: BOB, reason: 'left', at: iso(5) } }]);
  });

  it('records a leave reported more than two minutes late at two minutes before its decision', () => {
    // Seen at 40 s, decided at 400 s: metering has settled everything before 280 s already.
    given(decider, withBob)
      .when({ type: 'LeaveSession', participantId: BOB, reason: 'disconnected', at: at(40), decidedAt: at(400) })
      .then([{ type: 'participant.left', data: { participantId: BOB, reason: 'disconnected', at: iso(280) } }]);
  });
});

describe('SFU node runs', () => {
  const A = 'sfu-1/run-a';
  const B = 'sfu-2/run-b';
  const bobOnA: SessionEvent[] = [
    ...live,
    {
      type: 'participant.joined',
      data: { participantId: BOB, displayName: 'p-2', isHost: false, at: iso(5), node: A },
    },
  ];
  const bobMovedToB: SessionEvent[] = [
    ...bobOnA,
    { type: 'participant.reconnected', data: { participantId: BOB, node: B, at: iso(30) } },
  ];

  it('records the run a participant joined through', () => {
    given(decider, live)
      .when(joinCmd(BOB, { node: A }))
      .then([
        {
          type: 'participant.joined',
          data: { participantId: BOB, displayName: 'Bob', isHost: false, at: iso(10), node: A },
        },
      ]);
  });

  it('someone present who comes back through another run has reconnected; through the same run (or none), it is a second join', () => {
    given(decider, bobOnA)
      .when(joinCmd(BOB, { node: B, at: at(30) }))
      .then([{ type: 'participant.reconnected', data: { participantId: BOB, node: B, at: iso(30) } }]);
    given(decider, bobOnA)
      .when(joinCmd(BOB, { node: A }))
      .thenThrows('CONFLICT', 'session.already_joined');
    given(decider, bobOnA).when(joinCmd(BOB)).thenThrows('CONFLICT', 'session.already_joined');
    given(decider, bobMovedToB)
      .when(joinCmd(BOB, { node: B }))
      .thenThrows('CONFLICT', 'session.already_joined');
    // A run recorded for someone who joined before runs were: the first report with one moves them.
    given(decider, withBob)
      .when(joinCmd(BOB, { node: B, at: at(30) }))
      .then([{ type: 'participant.reconnected', data: { participantId: BOB, node: B, at: iso(30) } }]);
  });

  it('a reconnect is refused like a join when the meeting ended or the organization may not meet', () => {
    given(decider, [...bobOnA, { type: 'session.ended', data: { reason: 'ended_by_host', by: HOST, at: iso(20) } }])
      .when(joinCmd(BOB, { node: B }))
      .thenThrows('PRECONDITION_FAILED', 'session.ended');
    given(decider, bobOnA)
      .when(joinCmd(BOB, { node: B, org: { plan: 'pro', status: 'suspended' } }))
      .thenThrows('PRECONDITION_FAILED', 'session.organization_inactive');
  });

  it('only the run a participant is on now may record their leave', () => {
    // Run A lost Bob (it died, or its report came late); he had come back through run B.
    given(decider, bobMovedToB)
      .when({
        type: 'LeaveSession',
        participantId: BOB,
        reason: 'disconnected',
        at: at(25),
        decidedAt: at(25),
        node: A,
      })
      .thenThrows('CONFLICT', 'session.participant_elsewhere');
    given(decider, bobMovedToB)
      .when({ type: 'LeaveSession', participantId: BOB, reason: 'left', at: at(60), decidedAt: at(60), node: B })
      .then([{ type: 'participant.left', data: { participantId: BOB, reason: 'left', at: iso(60) } }]);
    // Before he came back, run A's leave counts; a leave that names no run always does.
    given(decider, bobOnA)
      .when({
        type: 'LeaveSession',
        participantId: BOB,
        reason: 'disconnected',
        at: at(25),
        decidedAt: at(25),
        node: A,
      })
      .then([{ type: 'participant.left', data: { participantId: BOB, reason: 'disconnected', at: iso(25) } }]);
    given(decider, bobMovedToB)
      .when({ type: 'LeaveSession', participantId: BOB, reason: 'left', at: at(60), decidedAt: at(60) })
      .then([{ type: 'participant.left', data: { participantId: BOB, reason: 'left', at: iso(60) } }]);
  });

  it('a reconnect keeps the join time and moves the run', () => {
    const bob = presentParticipants(foldEvents(decider, bobMovedToB)).get(BOB);
    expect(bob).toEqual({ displayName: 'p-2', isHost: false, joinedAt: iso(5), node: B });
  });
});

describe('host controls', () => {
  const bobAsModerator = { userId: BOB, isOrgModerator: false };
  const admin = { userId: ADMIN, isOrgModerator: true };

  it('lock and unlock, by the host or an organization admin only', () => {
    given(decider, withBob)
      .when({ type: 'LockSession', by: host, at: at(20) })
      .then([{ type: 'session.locked', data: { by: HOST } }]);
    given(decider, withBob)
      .when({ type: 'LockSession', by: admin, at: at(20) })
      .then([{ type: 'session.locked', data: { by: ADMIN } }]);
    given(decider, withBob)
      .when({ type: 'LockSession', by: bobAsModerator, at: at(20) })
      .thenThrows('FORBIDDEN', 'session.not_host');
    given(decider, [...withBob, { type: 'session.locked', data: { by: HOST } }])
      .when({ type: 'LockSession', by: host, at: at(20) })
      .thenThrows('CONFLICT', 'session.already_locked');
    given(decider, withBob)
      .when({ type: 'UnlockSession', by: host, at: at(20) })
      .thenThrows('CONFLICT', 'session.not_locked');
  });

  it('mute a present participant (audio or video)', () => {
    given(decider, withBob)
      .when({ type: 'MuteParticipant', participantId: BOB, kind: 'audio', by: host, at: at(20) })
      .then([{ type: 'participant.muted', data: { participantId: BOB, kind: 'audio', by: HOST } }]);
    given(decider, withBob)
      .when({ type: 'MuteParticipant', participantId: CAROL, kind: 'video', by: host, at: at(20) })
      .thenThrows('NOT_FOUND', 'session.not_present');
    given(decider, withBob)
      .when({ type: 'MuteParticipant', participantId: HOST, kind: 'video', by: bobAsModerator, at: at(20) })
      .thenThrows('FORBIDDEN', 'session.not_host');
  });

  it('remove a participant: they leave and cannot come back; the host cannot be removed', () => {
    const { state } = given(decider, [
      ...withBob,
      { type: 'participant.removed', data: { participantId: BOB, by: HOST, at: iso(20) } },
    ]);
    expect([...presentParticipants(state).keys()]).toEqual([HOST]);
    given(decider, withBob)
      .when({ type: 'RemoveParticipant', participantId: BOB, by: host, at: at(20) })
      .then([{ type: 'participant.removed', data: { participantId: BOB, by: HOST, at: iso(20) } }]);
    given(decider, withBob)
      .when({ type: 'RemoveParticipant', participantId: HOST, by: admin, at: at(20) })
      .thenThrows('BAD_REQUEST', 'session.cannot_remove_host');
  });

  it('end for all, once', () => {
    given(decider, withBob)
      .when({ type: 'EndSession', by: host, at: at(60) })
      .then([{ type: 'session.ended', data: { reason: 'ended_by_host', by: HOST, at: iso(60) } }]);
    const ended = [
      ...withBob,
      { type: 'session.ended' as const, data: { reason: 'ended_by_host' as const, by: HOST, at: iso(60) } },
    ];
    expect(presentParticipants(given(decider, ended).state).size).toBe(0);
    given(decider, ended)
      .when({ type: 'EndSession', by: host, at: at(61) })
      .thenThrows('PRECONDITION_FAILED', 'session.ended');
    given(decider, ended)
      .when({ type: 'LockSession', by: host, at: at(61) })
      .thenThrows('PRECONDITION_FAILED', 'session.ended');
  });
});

describe('EndEmptySession', () => {
  const emptied: SessionEvent[] = [
    ...live,
    { type: 'participant.left', data: { participantId: HOST, reason: 'left', at: iso(100) } },
  ];

  it('ends a started session once it has been empty for the grace period', () => {
    given(decider, emptied)
      .when({ type: 'EndEmptySession', graceMs: 60_000, at: at(160) })
      .then([{ type: 'session.ended', data: { reason: 'empty', by: null, at: iso(160) } }]);
  });

  it('waits out the grace period, and never ends a meeting with people in it or one not started', () => {
    given(decider, emptied)
      .when({ type: 'EndEmptySession', graceMs: 60_000, at: at(159) })
      .thenThrows('PRECONDITION_FAILED', 'session.grace_not_over');
    given(decider, live)
      .when({ type: 'EndEmptySession', graceMs: 0, at: at(500) })
      .thenThrows('PRECONDITION_FAILED', 'session.not_empty');
    given(decider, scheduled)
      .when({ type: 'EndEmptySession', graceMs: 0, at: at(500) })
      .thenThrows('PRECONDITION_FAILED', 'session.not_empty');
    // Someone coming back resets the clock.
    given(decider, [...emptied, joined(BOB, 150)])
      .when({ type: 'EndEmptySession', graceMs: 0, at: at(500) })
      .thenThrows('PRECONDITION_FAILED', 'session.not_empty');
  });
});
