import { useQueryClient } from '@tanstack/react-query';
import { PageTitle } from '../PageTitle';
import { Link } from '../router';
import { ME_KEY } from '../session';
import { useAction } from '../status';
import { trpc } from '../trpc';
import { FormError } from '../ui';

/** `/verify-email/<token>`, the link mailed at sign-up: one click confirms the address. */
export function VerifyEmailPage({ token }: { token: string }) {
  const queryClient = useQueryClient();
  const verify = useAction(() => trpc.auth.verifyEmail.mutate({ token }), {
    progress: () => 'Confirming your email address…',
    success: (out) => `${out.email} is confirmed.`,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ME_KEY }),
  });
  return (
    <PageTitle title="Confirm your email address">
      <div className="card narrow">
        {verify.isSuccess ? (
          <p data-testid="email-verified">
            <strong>{verify.data.email}</strong> is confirmed. <Link to="/">Go to Quorum</Link>
          </p>
        ) : (
          <>
            <p>Confirm that this address is yours: it is where Quorum sends invitations and account mail.</p>
            <FormError text={verify.errorText} />
            <button
              type="button"
              className="primary"
              onClick={() => verify.mutate(undefined)}
              disabled={verify.isPending}
            >
              {verify.isPending ? 'Confirming…' : 'Confirm email address'}
            </button>
          </>
        )}
      </div>
    </PageTitle>
  );
}

/** Shown to a user whose address is not confirmed yet, with a way to get the link again. */
export function VerifyEmailBanner({ email }: { email: string }) {
  const resend = useAction(() => trpc.auth.resendVerification.mutate(), {
    progress: () => `Sending a new link to ${email}…`,
    success: (out) =>
      out.emailVerified
        ? `${email} is already confirmed.`
        : out.sent
          ? `Sent a new link to ${email}.`
          : `The mail could not be sent; try again later.`,
  });
  return (
    <p className="notice verify-banner" role="note" data-testid="verify-email-banner">
      Confirm your email address: we sent a link to <strong>{email}</strong>.{' '}
      <button
        type="button"
        className="link-button"
        onClick={() => resend.mutate(undefined)}
        disabled={resend.isPending}
      >
        {resend.isPending ? 'Sending…' : 'Send it again'}
      </button>
    </p>
  );
}
