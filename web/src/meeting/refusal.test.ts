import { describe, expect, it } from 'vitest';
import { TicketRefused } from './join-ticket';
import { refusal, refusalHint } from './refusal';
import { SignalingRequestError } from './signaling-socket';

const ORG = '00000000-0000-4000-8000-00000000000a';
const OUT_OF_MINUTES =
  'This organization has used the 600 meeting minutes its Free plan includes this month, so nobody new can join a ' +
  'meeting until 2025-02-01 (UTC). An owner or billing member can upgrade the plan to meet again now.';

describe('refusal', () => {
  it("keeps the server's words and reason slug, from meetings.join or the SFU", () => {
    expect(refusal(new TicketRefused(OUT_OF_MINUTES, 'session.minutes_exhausted'))).toEqual({
      reason: 'refused',
      message: OUT_OF_MINUTES,
      refusal: 'session.minutes_exhausted',
    });
    expect(
      refusal(new SignalingRequestError('join', 'PRECONDITION_FAILED', OUT_OF_MINUTES, 'session.minutes_exhausted')),
    ).toEqual({ reason: 'refused', message: OUT_OF_MINUTES, refusal: 'session.minutes_exhausted' });
    expect(refusal(new TicketRefused('The meeting is locked; the host admits nobody new.'))).toEqual({
      reason: 'refused',
      message: 'The meeting is locked; the host admits nobody new.',
    });
    expect(refusal(new Error('Quorum could not be reached.'))).toEqual({
      reason: 'refused',
      message: 'Quorum could not be reached.',
    });
  });
});

describe('refusalHint', () => {
  it('offers an owner or billing member the plan page to upgrade', () => {
    for (const role of ['owner', 'billing'] as const) {
      expect(refusalHint('session.minutes_exhausted', ORG, role)).toEqual({
        kind: 'upgrade',
        text: 'Upgrade the plan to meet again now.',
        planPath: `/orgs/${ORG}/plan`,
      });
    }
  });

  it('tells anyone else who can upgrade, and where the plans are', () => {
    for (const role of ['admin', 'host', 'member', undefined] as const) {
      expect(refusalHint('session.minutes_exhausted', ORG, role)).toEqual({
        kind: 'ask',
        text: 'Ask an owner or a billing member of your organization to upgrade the plan.',
        planPath: `/orgs/${ORG}/plan`,
      });
    }
  });

  it('adds nothing to other refusals', () => {
    expect(refusalHint('session.locked', ORG, 'owner')).toBeNull();
    expect(refusalHint(undefined, ORG, 'owner')).toBeNull();
  });
});
