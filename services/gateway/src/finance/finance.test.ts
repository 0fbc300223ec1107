/**
 * The operators' finance review through `createCaller` over the embedded adapters (PGlite, the
 * in-process projector): every organization's month with the right totals and overage, each
 * sort and order paged one row at a time, and access that ends with the grant.
 */
import { randomUUID } from 'node:crypto';
import {
  currentVersionOf,
  meetingMinutesOverage,
  streamIds,
  usagePeriodOf,
  type Plan,
  type UsageMeter,
} from '@quorum/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusal, startCallerHarness, type CallerHarness, type TestUser } from '../testing/caller-harness';
import type { FinanceOrgRow } from './finance-row';

let h: CallerHarness;
let operator: TestUser;
let position: string;
const period = usagePeriodOf(new Date());
const monthStart = Date.UTC(Number(period.slice(0, 4)), Number(period.slice(4)) - 1, 1);

interface Org {
  orgId: string;
  name: string;
  plan: Plan;
  participantSeconds: number;
  meetingSeconds: number;
}
const orgs: Org[] = [];

/**
 * Appends `seconds` of `meter` as one interval per day from the month's first (fewer, longer
 * intervals than metering writes: the read models sum whatever they hold).
 */
async function appendUsage(orgId: string, meter: UsageMeter, seconds: number[]): Promise<string> {
  const events = seconds.map((s, day) => {
    const from = new Date(monthStart + day * 86_400_000);
    return {
      id: randomUUID(),
      type: 'usage.recorded',
      version: currentVersionOf('usage.recorded'),
      data: {
        meter,
        sessionId: randomUUID(),
        hostUserId: randomUUID(),
        participantId: meter === 'participant_minutes' ? randomUUID() : null,
        stint: randomUUID(),
        period,
        from: from.toISOString(),
        to: new Date(from.getTime() + s * 1000).toISOString(),
        seconds: s,
        sources: [randomUUID()],
      },
      metadata: {
        orgId,
        actor: { kind: 'system' as const, id: 'metering' },
        correlationId: randomUUID(),
        causationId: null,
      },
    };
  });
  const appended = await h.store.appendToStream(streamIds.usage(orgId, period), events);
  return appended.position.toString();
}

async function org(name: string, plan: Plan, participant: number[], meeting: number[]): Promise<void> {
  const owner = await h.signUp('owner');
  const created = await h.caller({ token: owner.token }).org.create({ name, plan: plan as 'pro' });
  const { orgId } = created;
  position = created.position;
  if (participant.length) position = await appendUsage(orgId, 'participant_minutes', participant);
  if (meeting.length) position = await appendUsage(orgId, 'meeting_minutes', meeting);
  const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
  orgs.push({ orgId, name, plan, participantSeconds: sum(participant), meetingSeconds: sum(meeting) });
}

function expectedRow(o: Org): FinanceOrgRow {
  const overage = meetingMinutesOverage(o.plan, o.meetingSeconds);
  return {
    orgId: o.orgId,
    name: o.name,
    plan: o.plan,
    currency: 'usd',
    participantMinutes: { seconds: o.participantSeconds, minutes: Math.ceil(o.participantSeconds / 60) },
    meetingMinutes: { seconds: o.meetingSeconds, minutes: overage.billableMinutes },
    includedMinutes: overage.includedMinutes,
    overageMinutes: overage.overageMinutes,
    overagePerMinute: overage.overagePerMinute,
    overageAmount: overage.amount,
    // Created this month with no seats bought: no seat charge, the overage as the usage line.
    preview: { seats: 0, usage: overage.amount, total: overage.amount },
  };
}

beforeAll(async () => {
  h = await startCallerHarness();
  operator = await h.signUpOperator();
  // Pro includes 10,000 meeting minutes and bills 2 cents a minute past them; business 100,000
  // at 1 cent; free 600, never billed past them.
  await org('beta Pro', 'pro', [61, 59], [86_000, 86_000, 86_000, 86_000, 86_000, 86_000, 86_000, 61]);
  await org('Alpha Business', 'business', [3_600], [86_000, 86_000, 86_000, 86_000, 86_000, 86_000, 86_000, 86_000]);
  await org('Gamma Free', 'free', [], [36_000, 1]);
  await org('delta Idle', 'pro', [], []);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('finance.orgs', () => {
  it('lists every organization once with its plan, totals and overage', async () => {
    const answer = await h.caller({ token: operator.token }).finance.orgs({ period, minPosition: position });
    expect(answer).toMatchObject({ period, sort: 'name', order: 'asc', next: null });
    const byName = [...orgs].sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
    expect(answer.orgs).toEqual(byName.map(expectedRow));
    // The pro organization ran 35 minutes (602,061 s rounded up to 10,035) past its 10,000.
    expect(answer.orgs.find((o) => o.plan === 'pro' && o.overageMinutes > 0)).toMatchObject({
      overageMinutes: 35,
      overageAmount: 70,
    });
  });

  it.each([
    ['name', (o: FinanceOrgRow) => o.name.toLowerCase()],
    ['participantMinutes', (o: FinanceOrgRow) => o.participantMinutes.minutes],
    ['meetingMinutes', (o: FinanceOrgRow) => o.meetingMinutes.minutes],
    ['overage', (o: FinanceOrgRow) => o.overageAmount],
  ] as const)('sorts by %s either way, a page of one at a time, each organization once', async (sort, key) => {
    for (const order of ['asc', 'desc'] as const) {
      const seen: FinanceOrgRow[] = [];
      let cursor: string | undefined;
      do {
        const page = await h
          .caller({ token: operator.token })
          .finance.orgs({ period, sort, order, limit: 1, ...(cursor ? { cursor } : {}) });
        seen.push(...page.orgs);
        cursor = page.next ?? undefined;
      } while (cursor);
      const expected = orgs.map(expectedRow).sort((a, b) => {
        const [ka, kb] = [key(a), key(b)];
        const byKey = ka < kb ? -1 : ka > kb ? 1 : a.orgId < b.orgId ? -1 : 1;
        return order === 'asc' ? byKey : -byKey;
      });
      expect(
        seen.map((o) => o.orgId),
        `${sort} ${order}`,
      ).toEqual(expected.map((o) => o.orgId));
    }
  });

  it('refuses an owner of an organization, and an operator whose grant is revoked, on the next call', async () => {
    const owner = await h.signUp('owner-not-operator');
    await h.caller({ token: owner.token }).org.create({ name: 'Own Co', plan: 'pro' });
    expect(await refusal(h.caller({ token: owner.token }).finance.orgs({ period }))).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'auth.not_operator',
    });
    const leaving = await h.signUpOperator('leaving');
    await expect(h.caller({ token: leaving.token }).finance.orgs({ period, limit: 1 })).resolves.toBeDefined();
    await h.operators.revoke(leaving.userId, 'test');
    expect(await refusal(h.caller({ token: leaving.token }).finance.orgs({ period }))).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'auth.not_operator',
    });
  });

  it('auth.me says whether the caller is an operator now, and stops saying so when the grant ends', async () => {
    const owner = await h.signUp('me-not-operator');
    await h.caller({ token: owner.token }).org.create({ name: 'Me Co', plan: 'pro' });
    expect(await h.caller({ token: owner.token }).auth.me()).toMatchObject({ id: owner.userId, operator: false });
    const granted = await h.signUpOperator('me-operator');
    expect(await h.caller({ token: granted.token }).auth.me()).toMatchObject({ id: granted.userId, operator: true });
    await h.operators.revoke(granted.userId, 'test');
    expect(await h.caller({ token: granted.token }).auth.me()).toMatchObject({ operator: false });
  });
});
