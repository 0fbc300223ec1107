import { LoginInputSchema, SignUpInputSchema } from '@quorum/api/schemas';
import { useState, type FormEvent } from 'react';
import { PageTitle } from '../PageTitle';
import { validate, type FieldErrors } from '../forms';
import { Link, navigate } from '../router';
import { useSessionCache } from '../session';
import { useAction } from '../status';
import { trpc } from '../trpc';
import { Field, FormError, SubmitButton } from '../ui';

export function AuthPage({ mode, next }: { mode: 'login' | 'signup'; next: string }) {
  const session = useSessionCache();
  const [errors, setErrors] = useState<FieldErrors>({});
  const onSuccess = (s: { user: { id: string; email: string; name: string; emailVerified: boolean } }) => {
    session.signedIn(s.user);
    navigate(next, { replace: true });
  };
  const signUp = useAction(
    (input: { email: string; password: string; name: string }) => trpc.auth.signUp.mutate(input),
    {
      progress: () => 'Creating your account…',
      success: (s) => `Welcome to Quorum, ${s.user.name}.`,
      onSuccess,
    },
  );
  const login = useAction((input: { email: string; password: string }) => trpc.auth.login.mutate(input), {
    progress: () => 'Logging in…',
    success: (s) => `Logged in as ${s.user.email}.`,
    onSuccess,
  });
  const action = mode === 'signup' ? signUp : login;
  const fieldErrors = { ...action.fieldErrors, ...errors };
  const nextQuery = next === '/' ? '' : `?next=${encodeURIComponent(next)}`;

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const values = {
      email: String(form.get('email') ?? ''),
      password: String(form.get('password') ?? ''),
      name: String(form.get('name') ?? ''),
    };
    if (mode === 'signup') {
      const v = validate(SignUpInputSchema, values);
      setErrors(v.ok ? {} : v.errors);
      if (v.ok) signUp.mutate(v.data);
    } else {
      const v = validate(LoginInputSchema, { email: values.email, password: values.password });
      setErrors(v.ok ? {} : v.errors);
      if (v.ok) login.mutate(v.data);
    }
  };

  return (
    <div className="auth-layout">
      <div className="auth-card">
        <p className="brand auth-brand">
          <span className="brand-mark" aria-hidden="true" />
          Quorum
        </p>
        <PageTitle title={mode === 'signup' ? 'Create your account' : 'Log in'}>
          {next.startsWith('/invite/') ? (
            <p className="notice">
              You have an invitation. {mode === 'signup' ? 'Sign up' : 'Log in'} with the email address it was sent to,
              then join.
            </p>
          ) : null}
          <form onSubmit={submit} noValidate aria-label={mode === 'signup' ? 'Sign up' : 'Log in'}>
            {mode === 'signup' ? (
              <Field label="Your name" name="name" autoComplete="name" error={fieldErrors.name} required />
            ) : null}
            <Field label="Email" name="email" type="email" autoComplete="email" error={fieldErrors.email} required />
            <Field
              label="Password"
              name="password"
              type="password"
              autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
              error={fieldErrors.password}
              hint={mode === 'signup' ? 'At least 10 characters.' : undefined}
              required
            />
            <FormError text={action.errorText} />
            <SubmitButton
              pending={action.isPending}
              pendingText={mode === 'signup' ? 'Creating account…' : 'Logging in…'}
            >
              {mode === 'signup' ? 'Sign up' : 'Log in'}
            </SubmitButton>
          </form>
          <p className="auth-switch">
            {mode === 'signup' ? (
              <>
                Already have an account? <Link to={`/login${nextQuery}`}>Log in</Link>
              </>
            ) : (
              <>
                New to Quorum? <Link to={`/signup${nextQuery}`}>Create an account</Link>
              </>
            )}
          </p>
        </PageTitle>
      </div>
    </div>
  );
}
