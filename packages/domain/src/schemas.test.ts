import { describe, expect, it } from 'vitest';
import { CreateOrganizationInputSchema, InviteMemberInputSchema } from './organization/organization.schema';
import { PurchaseSeatsInputSchema } from './seats/seats.schema';
import { CreateMeetingInputSchema, JoinMeetingInputSchema } from './session/session.schema';

const ORG = '00000000-0000-4000-8000-00000000000a';

describe('gateway input schemas', () => {
  it('trim and lower-case invitation emails, and reject bad ones with the field path', () => {
    expect(InviteMemberInputSchema.parse({ orgId: ORG, email: '  Ada@Example.COM ', role: 'admin' }).email).toBe(
      'ada@example.com',
    );
    const bad = InviteMemberInputSchema.safeParse({ orgId: ORG, email: 'not-an-email', role: 'admin' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['email']);
    expect(InviteMemberInputSchema.safeParse({ orgId: ORG, email: 'a@b.co', role: 'root' }).success).toBe(false);
  });

  it('trim organization names to 1..100 characters and default the plan to free', () => {
    expect(CreateOrganizationInputSchema.parse({ name: '  Acme  ' })).toEqual({ name: 'Acme', plan: 'free' });
    expect(CreateOrganizationInputSchema.safeParse({ name: '   ' }).success).toBe(false);
    expect(CreateOrganizationInputSchema.safeParse({ name: 'x'.repeat(101) }).success).toBe(false);
  });

  it('refuse control characters and unpaired surrogates in names and titles, with the field path', () => {
    for (const name of [
      'Acme\u0000',
      'Ac\u0007me',
      'Acme\nCorp',
      'Acme\u009b',
      'Acme \ud800',
      '\udc00 Acme',
      'Acme \udc00\ud800',
    ]) {
      const bad = CreateOrganizationInputSchema.safeParse({ name });
      expect(bad.success).toBe(false);
      expect(bad.error?.issues.map((i) => [i.path, i.message])).toEqual([
        [['name'], expect.stringMatching(/control characters/)],
      ]);
    }
    // Surrounding whitespace is trimmed, not refused; a paired surrogate (an emoji) is one character.
    expect(CreateOrganizationInputSchema.parse({ name: '\t Café 🎉 Ünïcode \n' }).name).toBe('Café 🎉 Ünïcode');
    expect(CreateMeetingInputSchema.safeParse({ orgId: ORG, title: 'Plan\u0000' }).success).toBe(false);
    expect(JoinMeetingInputSchema.safeParse({ orgId: ORG, sessionId: ORG, displayName: 'Ada\u0000' }).success).toBe(
      false,
    );
    expect(JoinMeetingInputSchema.safeParse({ orgId: ORG, sessionId: ORG }).success).toBe(true);
  });

  it('accept seat quantities from 1 to 10000 for a uuid organization', () => {
    expect(PurchaseSeatsInputSchema.safeParse({ orgId: ORG, quantity: 10_000 }).success).toBe(true);
    for (const quantity of [0, -1, 1.5, 10_001]) {
      expect(PurchaseSeatsInputSchema.safeParse({ orgId: ORG, quantity }).success).toBe(false);
    }
    expect(PurchaseSeatsInputSchema.safeParse({ orgId: 'acme', quantity: 1 }).success).toBe(false);
  });
});
