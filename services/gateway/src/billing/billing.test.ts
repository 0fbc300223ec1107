/**
 * The invoice preview through `createCaller` over the embedded adapters (PGlite, the in-process
 * projector): the seat timeline is projected and the preview read in one transaction there as
 * on PostgreSQL.
 */
import { usagePeriodOf } from '@quorum/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusal, startCallerHarness, type CallerHarness, type TestUser } from '../testing/caller-harness';

let h: CallerHarness;
let owner: TestUser;

beforeAll(async () => {
  h = await startCallerHarness();
  owner = await h.signUp('owner');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('billing.preview on the embedded adapters', () => {
  it('prices the seats bought this month to its end, at the plan in force', async () => {
    const { orgId } = await h.createOrg(owner, 'pro');
    const asOwner = h.caller({ token: owner.token });
    await asOwner.seats.purchase({ orgId, quantity: 4 });
    const { position } = await asOwner.org.changePlan({ orgId, plan: 'business' });
    const period = usagePeriodOf(new Date());
    const preview = await asOwner.billing.preview({ orgId, period, minPosition: position });
    const seats = preview.lines.filter((l) => l.kind === 'seats');
    expect(seats.at(-1)).toMatchObject({ plan: 'business', quantity: 4, to: preview.to, unitAmount: 2400 });
    expect(preview.planAtEnd?.plan).toBe('business');
    expect(seats.reduce((n, l) => n + l.amount, 0)).toBe(preview.totals.seats);
    expect(preview.totals.seats).toBeGreaterThan(0);
    expect(preview.totals.seats).toBeLessThanOrEqual(4 * 2400);
  });

  it('refuses a member without the billing or owner role', async () => {
    const { orgId } = await h.createOrg(owner, 'pro');
    const host = await h.addMember(orgId, owner, 'host');
    const f = await refusal(h.caller({ token: host.token }).billing.preview({ orgId, period: '202503' }));
    expect(f).toMatchObject({ code: 'FORBIDDEN', reason: 'auth.forbidden' });
  });
});
