/**
 * The input schemas of the gateway's own procedures (those not in `@quorum/domain`): the
 * gateway validates with them, and clients such as the web app validate forms with exactly the
 * same rules. Only zod and the domain package behind them: safe to bundle for a browser.
 */
export {
  LoginInputSchema,
  PasswordSchema,
  RefreshInputSchema,
  SignUpInputSchema,
  VerifyEmailInputSchema,
  type LoginInput,
  type RefreshInput,
  type SignUpInput,
  type VerifyEmailInput,
} from './auth.schema';
export {
  CreateApiKeyInputSchema,
  RevokeApiKeyInputSchema,
  type CreateApiKeyInput,
  type RevokeApiKeyInput,
} from './api-keys.schema';
export {
  UsageCursorSchema,
  UsageDaySchema,
  UsageExportInputSchema,
  UsageGroupBySchema,
  UsageRecordsInputSchema,
  UsageSummaryInputSchema,
  type UsageExportInput,
  type UsageGroupBy,
  type UsageRecordsInput,
  type UsageSummaryInput,
} from './usage.schema';
export { BillingPreviewInputSchema, type BillingPreviewInput } from './billing.schema';
export {
  FinanceCursorPayloadSchema,
  FinanceCursorSchema,
  FinanceExportInputSchema,
  FinanceOrderSchema,
  FinanceOrgsInputSchema,
  FinanceOrgsShape,
  FinanceSortSchema,
  decodeFinanceCursor,
  encodeFinanceCursor,
  refineFinanceCursor,
  type FinanceCursor,
  type FinanceExportInput,
  type FinanceOrder,
  type FinanceOrgsInput,
  type FinanceOrgsQuery,
  type FinanceSort,
} from './finance.schema';
