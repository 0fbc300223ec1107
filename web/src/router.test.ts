import { describe, expect, it } from 'vitest';
import { matchRoute } from './router';

describe('matchRoute', () => {
  it('knows every page', () => {
    expect(matchRoute('/')).toEqual({ name: 'home' });
    expect(matchRoute('/login')).toEqual({ name: 'login' });
    expect(matchRoute('/signup')).toEqual({ name: 'signup' });
    expect(matchRoute('/orgs/new')).toEqual({ name: 'newOrg' });
    expect(matchRoute('/orgs/o1')).toEqual({ name: 'org', orgId: 'o1', tab: 'seats' });
    expect(matchRoute('/orgs/o1/api-keys')).toEqual({ name: 'org', orgId: 'o1', tab: 'api-keys' });
    expect(matchRoute('/orgs/o1/webhooks')).toEqual({ name: 'org', orgId: 'o1', tab: 'webhooks' });
    expect(matchRoute('/invite/o1/i1/t1')).toEqual({ name: 'invite', orgId: 'o1', invitationId: 'i1', token: 't1' });
    expect(matchRoute('/invite/o1/i1')).toEqual({ name: 'notFound' });
    expect(matchRoute('/verify-email/t1')).toEqual({ name: 'verifyEmail', token: 't1' });
    expect(matchRoute('/orgs/o1/usage')).toEqual({ name: 'org', orgId: 'o1', tab: 'usage' });
    expect(matchRoute('/orgs/o1/meetings')).toEqual({ name: 'org', orgId: 'o1', tab: 'meetings' });
    expect(matchRoute('/orgs/o1/meetings/s1')).toEqual({ name: 'meeting', orgId: 'o1', sessionId: 's1' });
    expect(matchRoute('/finance')).toEqual({ name: 'finance' });
  });

  it('answers notFound for anything else', () => {
    expect(matchRoute('/orgs/o1/nope')).toEqual({ name: 'notFound' });
    expect(matchRoute('/invite/o1')).toEqual({ name: 'notFound' });
    expect(matchRoute('/orgs/o1/seats/s1')).toEqual({ name: 'notFound' });
    expect(matchRoute('/orgs/o1/meetings/s1/x')).toEqual({ name: 'notFound' });
    expect(matchRoute('/finance/x')).toEqual({ name: 'notFound' });
  });
});
