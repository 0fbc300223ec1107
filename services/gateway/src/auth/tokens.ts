/**
 * Short-lived access tokens: compact JWS with HS256 (RFC 7519), signed with the gateway's
 * secret. Refresh tokens are opaque random strings stored hashed (see auth.repository).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface AccessClaims {
  sub: string;
  email: string;
  /** The login this token belongs to (its refresh token family): ending the login ends the token. */
  sid: string;
  iat: number;
  exp: number;
}

const SIGNATURE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

export function signAccessToken(claims: AccessClaims, secret: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${HEADER}.${payload}`).digest('base64url');
  return `${HEADER}.${payload}.${signature}`;
}

/** The claims, or `undefined` for a malformed, forged or expired token. */
export function verifyAccessToken(token: string, secret: string, nowSeconds: number): AccessClaims | undefined {
  const parts = token.split('.');
  // An HS256 signature is 32 bytes: exactly 43 base64url characters, no padding, nothing after.
  if (parts.length !== 3 || parts[0] !== HEADER || !SIGNATURE.test(parts[2]!)) return undefined;
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let claims: AccessClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as AccessClaims;
  } catch {
    return undefined; // a valid signature over non-JSON cannot come from us
  }
  if (
    typeof claims.sub !== 'string' ||
    typeof claims.sid !== 'string' ||
    typeof claims.exp !== 'number' ||
    claims.exp <= nowSeconds
  )
    return undefined;
  return claims;
}

export function newOpaqueToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** Refresh tokens and API key secrets carry 256 random bits, so a fast hash is enough. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
