import { EmailSchema, plainText } from '@quorum/domain';
import { z } from 'zod';

export const PasswordSchema = z.string().min(10, 'Password must have at least 10 characters').max(200);

export const SignUpInputSchema = z.object({
  email: EmailSchema,
  password: PasswordSchema,
  name: plainText(z.string().trim().min(1, 'Name is required').max(100)),
});
export type SignUpInput = z.infer<typeof SignUpInputSchema>;

export const LoginInputSchema = z.object({ email: EmailSchema, password: z.string().min(1).max(200) });
export type LoginInput = z.infer<typeof LoginInputSchema>;

/** The refresh token comes in the body (API clients) or the session cookie (web app). */
export const RefreshInputSchema = z.object({ refreshToken: z.string().min(1).max(200).optional() }).default({});
export type RefreshInput = z.infer<typeof RefreshInputSchema>;

/** The token of a verification link (`/verify-email/<token>`). */
export const VerifyEmailInputSchema = z.object({
  token: z.string().regex(/^qev_[A-Za-z0-9_-]{43}$/, 'must be the token of the verification link (qev_…)'),
});
export type VerifyEmailInput = z.infer<typeof VerifyEmailInputSchema>;
