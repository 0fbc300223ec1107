import { describe, expect, it } from 'vitest';
import { given } from '../testing/given-when-then';
import { organizationDecider as decider } from './organization.decider';
import { apiKeyMay, apiKeysMadeBy } from './organization.state';
import type { OrganizationEvent } from './organization.events';

const ORG = '00000000-0000-4000-8000-00000000000a';
const OWNER = '00000000-0000-4000-8000-000000000001';
const ADMIN = '00000000-0000-4000-8000-000000000002';
const K1 = '00000000-0000-4000-8000-0000000000b1';
const K2 = '00000000-0000-4000-8000-0000000000b2';
const K3 = '00000000-0000-4000-8000-0000000000b3';
const OTHER = '00000000-0000-4000-8000-0000000000b9';

const base: OrganizationEvent[] = [
  {
    type: 'organization.created',
    data: {
      orgId: ORG,
      name: 'Acme',
      plan: 'pro',
      ownerUserId: OWNER,
      ownerEmail: 'o@acme.test',
      trialEndsAt: '2025-01-15T00:00:00.000Z',
    },
  },
  { type: 'member.joined', data: { userId: OWNER, email: 'o@acme.test', role: 'owner', invitationId: null } },
  { type: 'member.joined', data: { userId: ADMIN, email: 'a@acme.test', role: 'admin', invitationId: null } },
  // The admin makes an admin key, which makes an admin key, which makes a billing key.
  { type: 'api_key.created', data: { keyId: K1, name: 'k1', role: 'admin', createdBy: ADMIN } },
  { type: 'api_key.created', data: { keyId: K2, name: 'k2', role: 'admin', createdBy: K1 } },
  { type: 'api_key.created', data: { keyId: K3, name: 'k3', role: 'billing', createdBy: K2 } },
  { type: 'api_key.created', data: { keyId: OTHER, name: 'other', role: 'billing', createdBy: OWNER } },
];
const stateOf = (events: OrganizationEvent[]) => given(decider, events).state;

describe('apiKeyMay: a key is capped by its maker', () => {
  it("allows what both the key's role and its maker's current role allow, up the chain", () => {
    const state = stateOf(base);
    expect(apiKeyMay(state, K1, 'members.invite')).toBe(true);
    expect(apiKeyMay(state, K2, 'apiKeys.create')).toBe(true);
    // Billing may spend, but the admin at the top of the chain may not.
    expect(apiKeyMay(state, K3, 'seats.purchase')).toBe(false);
    expect(apiKeyMay(state, K3, 'events.list')).toBe(true);
    // Made by the owner: the key's role alone decides.
    expect(apiKeyMay(state, OTHER, 'seats.purchase')).toBe(true);
  });

  it('loses what its maker loses: a demotion reaches every key down the chain', () => {
    const state = stateOf([
      ...base,
      { type: 'member.role_changed', data: { userId: ADMIN, from: 'admin', to: 'member' } },
    ]);
    for (const key of [K1, K2]) {
      expect(apiKeyMay(state, key, 'members.invite')).toBe(false);
      expect(apiKeyMay(state, key, 'apiKeys.create')).toBe(false);
      expect(apiKeyMay(state, key, 'org.get')).toBe(true);
    }
    expect(apiKeyMay(state, K3, 'events.list')).toBe(false);
  });

  it('may do nothing once its maker is removed or a key above it is revoked', () => {
    const removed = stateOf([...base, { type: 'member.removed', data: { userId: ADMIN } } as OrganizationEvent]);
    expect([K1, K2, K3].map((k) => apiKeyMay(removed, k, 'org.get'))).toEqual([false, false, false]);
    const revoked = stateOf([...base, { type: 'api_key.revoked', data: { keyId: K1, revokedBy: OWNER } }]);
    expect([K1, K2, K3].map((k) => apiKeyMay(revoked, k, 'org.get'))).toEqual([false, false, false]);
    expect(apiKeyMay(revoked, OTHER, 'org.get')).toBe(true);
  });

  it('apiKeysMadeBy lists the active keys made directly or through other keys', () => {
    const state = stateOf(base);
    expect(apiKeysMadeBy(state, ADMIN).sort()).toEqual([K1, K2, K3].sort());
    expect(apiKeysMadeBy(state, K2)).toEqual([K3]);
    expect(apiKeysMadeBy(state, OWNER)).toEqual([OTHER]);
    expect(
      apiKeysMadeBy(stateOf([...base, { type: 'api_key.revoked', data: { keyId: K2, revokedBy: OWNER } }]), ADMIN),
    ).toEqual([K1]);
  });
});
