import { AppError } from '@quorum/domain';
import { verificationMail } from '../email/email-messages';
import { publicBaseUrl, sendMail } from '../email/send-mail';
import type { Context, UserContext } from '../trpc';
import { assertAllowed, emailKey, ipKey } from './auth-rate-limits';
import type { LoginInput, SignUpInput, VerifyEmailInput } from '@quorum/api/schemas';
import type { Session } from './auth.service';

/** How long a verification link works. */
const VERIFICATION_TTL_MS = 24 * 3_600_000;

/**
 * Signs up unless the caller's IP has used up its sign-ups, and mails a link that proves the
 * address is theirs. Until it is opened the account works, but `auth.me` says
 * `emailVerified: false`.
 */
export async function signUp(ctx: Context, input: SignUpInput): Promise<Session> {
  assertAllowed(await ctx.deps.rateLimits.signUp.consume(ipKey(ctx.clientIp)));
  const session = await ctx.deps.auth.signUp(input);
  await mailVerification(ctx, session.user);
  return session;
}

async function mailVerification(ctx: Context, user: { id: string; email: string; name: string }): Promise<boolean> {
  const { token } = await ctx.deps.emailTokens.issue('email', {
    subject: user.id,
    email: user.email,
    expiresAt: new Date(ctx.deps.now().getTime() + VERIFICATION_TTL_MS),
  });
  return sendMail(ctx, verificationMail(user.email, user.name, `${publicBaseUrl(ctx)}/verify-email/${token}`));
}

/** Mails a new verification link, unless the address is verified already. */
export async function resendVerification(ctx: UserContext) {
  // Counted like sign-ups: each one sends a mail.
  assertAllowed(await ctx.deps.rateLimits.signUp.consume(ipKey(ctx.clientIp)));
  const me = await ctx.deps.auth.me(ctx.principal.userId);
  if (me.emailVerified) return { sent: false, emailVerified: true };
  return { sent: await mailVerification(ctx, me), emailVerified: false };
}

/**
 * The signed-in user, and whether they are one of Quorum's operators now, so the web app offers
 * the finance review only to them. The finance calls check again on each call: this is a hint
 * for what to show, not a grant.
 */
export async function me(ctx: UserContext) {
  const [user, operator] = await Promise.all([
    ctx.deps.auth.me(ctx.principal.userId),
    ctx.deps.operators.isOperator(ctx.principal),
  ]);
  return { ...user, operator };
}

/** Opens a verification link: the address it was mailed to is the account's, proven. */
export async function verifyEmail(ctx: Context, input: VerifyEmailInput) {
  const used = await ctx.deps.emailTokens.use('email', input.token);
  const verified = used ? await ctx.deps.auth.markEmailVerified(used.subject, used.email) : false;
  if (!used || !verified) {
    throw new AppError(
      'BAD_REQUEST',
      'auth.verification_invalid',
      'This verification link is not valid: it was used, it expired, or the address changed. Ask for a new one.',
    );
  }
  return { emailVerified: true as const, email: used.email };
}

/**
 * Logs in unless the caller's IP or the email has used up its attempts; the attempt counts
 * before the password is checked, so a refused caller learns nothing about the password.
 */
export async function login(ctx: Context, input: LoginInput): Promise<Session> {
  assertAllowed(await ctx.deps.rateLimits.loginByIp.consume(ipKey(ctx.clientIp)));
  const key = emailKey(input.email);
  assertAllowed(await ctx.deps.rateLimits.login.consume(key));
  const session = await ctx.deps.auth.login(input);
  await ctx.deps.rateLimits.login.reset(key);
  return session;
}
