/**
 * The gateway's own input schemas (those not in `@quorum/domain`), exported so clients such
 * as the web app validate forms with exactly the rules the server applies. Only zod and the
 * domain package behind them: safe to bundle for a browser.
 */
export {
  LoginInputSchema,
  PasswordSchema,
  SignUpInputSchema,
  type LoginInput,
  type SignUpInput,
} from './auth/auth.schema';
export {
  CreateApiKeyInputSchema,
  RevokeApiKeyInputSchema,
  type CreateApiKeyInput,
  type RevokeApiKeyInput,
} from './api-keys/api-keys.schema';
