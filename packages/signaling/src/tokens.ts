/**
 * Tokens between the gateway and the SFU, as compact JWS with HS256 (RFC 7519):
 *
 * - Join tokens: the gateway's `meetings.join` signs one for a participant (at most five
 *   minutes); the SFU verifies it on the signaling socket's `join` before admitting anyone.
 * - Service tokens: the SFU signs a short one for each call it makes to the gateway
 *   (reporting joins and leaves); the gateway verifies it. Both sides share the secret.
 *
 * Server-only (node:crypto): browsers never see the secrets, only the opaque join token.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** Longest a join token may live: the five minutes. */
export const MAX_JOIN_TOKEN_TTL_SECONDS = 300;

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

/** What a join token says: who joins which meeting of which organization, with which powers. */
export const JoinClaimsSchema = z.object({
  aud: z.literal('quorum-sfu'),
  /** The participant: a user id (or an API key id). */
  sub: z.uuid(),
  org: z.uuid(),
  /** The session (meeting) id. */
  sid: z.uuid(),
  /**
   * Display name shown to the others, and reported to the gateway: no control characters or
   * unpaired surrogates (the gateway refuses them, as `plainText` in `@quorum/domain` does).
   */
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[^\p{Cc}\p{Cs}]*$/u, 'must not contain control characters or unpaired UTF-16 surrogates'),
  /** Whether the participant is the meeting's host. */
  host: z.boolean(),
  /** Whether the participant may use host controls (the host, or an organization owner or admin). */
  mod: z.boolean(),
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.uuid(),
});
export type JoinClaims = z.infer<typeof JoinClaimsSchema>;

/** What a service token says: which service calls, until when. */
export const ServiceClaimsSchema = z.object({
  aud: z.literal('quorum-gateway'),
  /** The calling service and node, e.g. `sfu:node-1`. */
  sub: z.string().min(1).max(200),
  iat: z.number().int(),
  exp: z.number().int(),
});
export type ServiceClaims = z.infer<typeof ServiceClaimsSchema>;

/** Why a token was refused, for a clear error. */
export type TokenRefusal = 'malformed' | 'bad_signature' | 'expired' | 'invalid_claims';

function sign(claims: object, secret: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${HEADER}.${payload}`).digest('base64url');
  return `${HEADER}.${payload}.${signature}`;
}

function verify<T extends { exp: number }>(
  token: string,
  secret: string,
  schema: z.ZodType<T>,
  nowSeconds: number,
): { ok: true; claims: T } | { ok: false; reason: TokenRefusal } {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return { ok: false, reason: 'malformed' };
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad_signature' };
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: 'invalid_claims' };
  if (parsed.data.exp <= nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, claims: parsed.data };
}

function assertSecret(secret: string): void {
  if (secret.length < 32) throw new Error('token secrets must have at least 32 characters');
}

/** Signs a join token valid for `ttlSeconds` (1 to {@link MAX_JOIN_TOKEN_TTL_SECONDS}). */
export function signJoinToken(
  claims: Omit<JoinClaims, 'aud' | 'iat' | 'exp' | 'jti'>,
  secret: string,
  options: { ttlSeconds: number; nowSeconds: number },
): { token: string; expiresAt: Date } {
  assertSecret(secret);
  const { ttlSeconds, nowSeconds } = options;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_JOIN_TOKEN_TTL_SECONDS) {
    throw new Error(`join token lifetime must be 1 to ${MAX_JOIN_TOKEN_TTL_SECONDS} seconds, got ${ttlSeconds}`);
  }
  const full: JoinClaims = {
    aud: 'quorum-sfu',
    ...claims,
    iat: nowSeconds,
    exp: nowSeconds + ttlSeconds,
    jti: randomUUID(),
  };
  return { token: sign(full, secret), expiresAt: new Date(full.exp * 1000) };
}

/** Verifies a join token: signature, shape, audience, expiry, and a lifetime of at most five minutes. */
export function verifyJoinToken(
  token: string,
  secret: string,
  nowSeconds: number,
): { ok: true; claims: JoinClaims } | { ok: false; reason: TokenRefusal } {
  const result = verify(token, secret, JoinClaimsSchema, nowSeconds);
  if (result.ok && result.claims.exp - result.claims.iat > MAX_JOIN_TOKEN_TTL_SECONDS)
    return { ok: false, reason: 'invalid_claims' };
  return result;
}

/** Signs a service token for one call (valid `ttlSeconds`, 60 by default). */
export function signServiceToken(subject: string, secret: string, nowSeconds: number, ttlSeconds = 60): string {
  assertSecret(secret);
  return sign(
    { aud: 'quorum-gateway', sub: subject, iat: nowSeconds, exp: nowSeconds + ttlSeconds } satisfies ServiceClaims,
    secret,
  );
}

/** Verifies a service token. */
export function verifyServiceToken(
  token: string,
  secret: string,
  nowSeconds: number,
): { ok: true; claims: ServiceClaims } | { ok: false; reason: TokenRefusal } {
  const result = verify(token, secret, ServiceClaimsSchema, nowSeconds);
  if (result.ok && result.claims.exp - result.claims.iat > 300) return { ok: false, reason: 'invalid_claims' };
  return result;
}
