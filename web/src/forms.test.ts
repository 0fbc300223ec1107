import { InviteMemberInputSchema, PurchaseSeatsInputSchema } from '@quorum/domain';
import { SignUpInputSchema } from '@quorum/api/schemas';
import { describe, expect, it } from 'vitest';
import { humanize, numberFrom, validate } from './forms';

const orgId = '3f0e8b9c-1d2e-4f5a-8b6c-7d8e9f0a1b2c';

describe('validate', () => {
  it('passes parsed data through (emails trimmed and lower-cased as on the server)', () => {
    const v = validate(InviteMemberInputSchema, { orgId, email: '  Bob@Example.COM ', role: 'member' });
    expect(v).toEqual({ ok: true, data: { orgId, email: 'bob@example.com', role: 'member' } });
  });

  it('maps issues to fields with words for people', () => {
    const v = validate(SignUpInputSchema, { email: 'nope', password: 'short', name: '' });
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.errors.email).toBe('Enter a valid email address.');
    expect(v.errors.password).toBe('Password must have at least 10 characters');
    expect(v.errors.name).toBe('Name is required');
  });

  it('rejects a quantity that is not a positive whole number', () => {
    const zero = validate(PurchaseSeatsInputSchema, { orgId, quantity: 0 });
    expect(zero.ok ? undefined : zero.errors.quantity).toBe('Enter a number greater than 0.');
    const empty = validate(PurchaseSeatsInputSchema, { orgId, quantity: numberFrom('') });
    expect(empty.ok ? undefined : empty.errors.quantity).toMatch(/number/);
    const half = validate(PurchaseSeatsInputSchema, { orgId, quantity: 1.5 });
    expect(half.ok ? undefined : half.errors.quantity).toBe('Enter a whole number.');
  });

  it('leaves unknown messages as they are', () => {
    expect(humanize('Name is required')).toBe('Name is required');
  });
});
