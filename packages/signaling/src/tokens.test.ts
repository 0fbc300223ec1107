import { describe, expect, it } from 'vitest';
import {
  MAX_JOIN_TOKEN_TTL_SECONDS,
  signJoinToken,
  signServiceToken,
  verifyJoinToken,
  verifyServiceToken,
} from './tokens';

const SECRET = 'j'.repeat(40);
const NOW = 1_800_000_000;
const claims = {
  sub: '00000000-0000-4000-8000-000000000001',
  org: '00000000-0000-4000-8000-00000000000a',
  sid: '00000000-0000-4000-8000-000000000051',
  name: 'Ada',
  host: true,
  mod: true,
};

describe('join tokens', () => {
  it('round-trips the claims until expiry', () => {
    const { token, expiresAt } = signJoinToken(claims, SECRET, { ttlSeconds: 300, nowSeconds: NOW });
    expect(expiresAt.getTime()).toBe((NOW + 300) * 1000);
    const verified = verifyJoinToken(token, SECRET, NOW + 299);
    expect(verified).toMatchObject({ ok: true, claims: { ...claims, aud: 'quorum-sfu', iat: NOW, exp: NOW + 300 } });
    expect(verifyJoinToken(token, SECRET, NOW + 300)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a forged, tampered or malformed token, and a lifetime beyond five minutes', () => {
    const { token } = signJoinToken(claims, SECRET, { ttlSeconds: 60, nowSeconds: NOW });
    expect(verifyJoinToken(token, 'x'.repeat(40), NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    const [h, p, s] = token.split('.');
    const tampered = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), host: false }),
    ).toString('base64url');
    expect(verifyJoinToken(`${h}.${tampered}.${s}`, SECRET, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyJoinToken('not-a-token', SECRET, NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(() =>
      signJoinToken(claims, SECRET, { ttlSeconds: MAX_JOIN_TOKEN_TTL_SECONDS + 1, nowSeconds: NOW }),
    ).toThrow(/1 to 300 seconds/);
    expect(() => signJoinToken(claims, 'short', { ttlSeconds: 60, nowSeconds: NOW })).toThrow(/32 characters/);
  });

  it('refuses a display name with a control character or an unpaired surrogate as invalid claims', () => {
    for (const name of ['Ada\u0000', 'Ada\nLovelace', 'Ada \ud800']) {
      const { token } = signJoinToken({ ...claims, name }, SECRET, { ttlSeconds: 60, nowSeconds: NOW });
      expect(verifyJoinToken(token, SECRET, NOW)).toEqual({ ok: false, reason: 'invalid_claims' });
    }
    const { token } = signJoinToken({ ...claims, name: 'Ada 🎉 Lovelace' }, SECRET, {
      ttlSeconds: 60,
      nowSeconds: NOW,
    });
    expect(verifyJoinToken(token, SECRET, NOW)).toMatchObject({ ok: true, claims: { name: 'Ada 🎉 Lovelace' } });
  });

  it('a service token does not pass as a join token, nor the other way round', () => {
    const service = signServiceToken('sfu:node-1', SECRET, NOW);
    expect(verifyJoinToken(service, SECRET, NOW)).toEqual({ ok: false, reason: 'invalid_claims' });
    const { token } = signJoinToken(claims, SECRET, { ttlSeconds: 60, nowSeconds: NOW });
    expect(verifyServiceToken(token, SECRET, NOW)).toEqual({ ok: false, reason: 'invalid_claims' });
    expect(verifyServiceToken(service, SECRET, NOW)).toMatchObject({ ok: true, claims: { sub: 'sfu:node-1' } });
  });
});
