import type { Mail } from '@quorum/mail';
import type { Context } from '../trpc';

/**
 * Where links in mail point: `publicUrl` when configured (production: the address people reach
 * Quorum at), else the address this request came to.
 */
export function publicBaseUrl(ctx: Context): string {
  if (ctx.deps.publicUrl) return ctx.deps.publicUrl.replace(/\/$/, '');
  return `${ctx.origin.secure ? 'https' : 'http'}://${ctx.origin.host ?? 'localhost'}`;
}

/**
 * Sends a mail that follows a recorded change. A mail server that fails does not undo the change:
 * it is logged, and the link can be sent again (a new invitation link, `auth.resendVerification`).
 */
export async function sendMail(ctx: Context, mail: Mail): Promise<boolean> {
  try {
    await ctx.deps.mailer.send(mail);
    return true;
  } catch (err) {
    ctx.log.error({ err, to: mail.to, subject: mail.subject }, 'could not send mail');
    return false;
  }
}
