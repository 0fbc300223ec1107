import { IdSchema } from '@quorum/domain';
import { z } from 'zod';
import { authedProcedure, MinPositionSchema, router } from '../trpc';
import { createApiKey, listApiKeys, revokeApiKey } from './api-keys.handler';
import { CreateApiKeyInputSchema, RevokeApiKeyInputSchema } from '@quorum/api/schemas';

export const apiKeysRouter = router({
  create: authedProcedure.input(CreateApiKeyInputSchema).mutation(({ ctx, input }) => createApiKey(ctx, input)),
  list: authedProcedure
    .input(z.object({ orgId: IdSchema, minPosition: MinPositionSchema }))
    .query(({ ctx, input }) => listApiKeys(ctx, input)),
  revoke: authedProcedure.input(RevokeApiKeyInputSchema).mutation(({ ctx, input }) => revokeApiKey(ctx, input)),
});
