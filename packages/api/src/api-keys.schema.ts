import { IdSchema, plainText, RoleSchema } from '@quorum/domain';
import { z } from 'zod';

export const CreateApiKeyInputSchema = z.object({
  orgId: IdSchema,
  name: plainText(z.string().trim().min(1, 'Name is required').max(100)),
  // An API key acts for an integration; it never holds the owner role.
  role: RoleSchema.exclude(['owner']).default('admin'),
});
export type CreateApiKeyInput = z.infer<typeof CreateApiKeyInputSchema>;

export const RevokeApiKeyInputSchema = z.object({ orgId: IdSchema, keyId: IdSchema });
export type RevokeApiKeyInput = z.infer<typeof RevokeApiKeyInputSchema>;
