import type { Context } from '../trpc';
import { assertAllowed, emailKey, ipKey } from './auth-rate-limits';
import type { LoginInput, SignUpInput } from './auth.schema';
import type { Session } from './auth.service';

/** Signs up unless the caller's IP has used up its sign-ups. */
export async function signUp(ctx: Context, input: SignUpInput): Promise<Session> {
  assertAllowed(await ctx.deps.rateLimits.signUp.consume(ipKey(ctx.clientIp)));
  return ctx.deps.auth.signUp(input);
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
