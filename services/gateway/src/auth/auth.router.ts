import { z } from 'zod';
import { publicProcedure, router, userProcedure, type Context } from '../trpc';
import { login, me, resendVerification, signUp, verifyEmail } from './auth.handler';
import { LoginInputSchema, RefreshInputSchema, SignUpInputSchema, VerifyEmailInputSchema } from '@quorum/api/schemas';
import type { Session } from './auth.service';

export const ACCESS_COOKIE = 'quorum_access';
export const REFRESH_COOKIE = 'quorum_refresh';

/** The web app keeps its session in HttpOnly cookies; API clients use the body. */
function setSessionCookies(ctx: Context, s: Session) {
  ctx.setCookie(ACCESS_COOKIE, s.accessToken, { maxAgeSeconds: ctx.deps.accessTokenTtlSeconds, path: '/' });
  ctx.setCookie(REFRESH_COOKIE, s.refreshToken, {
    maxAgeSeconds: ctx.deps.refreshTokenTtlSeconds,
    path: '/trpc',
    sameSite: 'Strict',
  });
}

export const authRouter = router({
  signUp: publicProcedure.input(SignUpInputSchema).mutation(async ({ ctx, input }) => {
    const session = await signUp(ctx, input);
    setSessionCookies(ctx, session);
    return session;
  }),
  login: publicProcedure.input(LoginInputSchema).mutation(async ({ ctx, input }) => {
    const session = await login(ctx, input);
    setSessionCookies(ctx, session);
    return session;
  }),
  refresh: publicProcedure.input(RefreshInputSchema).mutation(async ({ ctx, input }) => {
    const token = input.refreshToken ?? ctx.cookies[REFRESH_COOKIE];
    const session = await ctx.deps.auth.refresh(token ?? '');
    setSessionCookies(ctx, session);
    return session;
  }),
  logout: publicProcedure.input(RefreshInputSchema).mutation(async ({ ctx, input }) => {
    await ctx.deps.auth.logout(input.refreshToken ?? ctx.cookies[REFRESH_COOKIE]);
    // A caller that logs out with only its access token ends that token's login all the same.
    if (ctx.principal?.kind === 'user') await ctx.deps.auth.revokeLogin(ctx.principal.loginId);
    ctx.setCookie(ACCESS_COOKIE, '', { maxAgeSeconds: 0, path: '/' });
    ctx.setCookie(REFRESH_COOKIE, '', { maxAgeSeconds: 0, path: '/trpc', sameSite: 'Strict' });
    return { loggedOut: true as const };
  }),
  me: userProcedure.input(z.object({}).optional()).query(({ ctx }) => me(ctx)),
  verifyEmail: publicProcedure.input(VerifyEmailInputSchema).mutation(({ ctx, input }) => verifyEmail(ctx, input)),
  resendVerification: userProcedure.input(z.object({}).optional()).mutation(({ ctx }) => resendVerification(ctx)),
});
