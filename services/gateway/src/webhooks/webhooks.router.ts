import {
  CreateEndpointInputSchema,
  EndpointRefInputSchema,
  IdSchema,
  RotateEndpointSecretInputSchema,
  UpdateEndpointInputSchema,
} from '@quorum/domain';
import { z } from 'zod';
import { authedProcedure, MinPositionSchema, router } from '../trpc';
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  pauseEndpoint,
  pingEndpoint,
  resumeEndpoint,
  revealEndpointSecret,
  rotateEndpointSecret,
  updateEndpoint,
} from './webhooks.handler';

export const webhooksRouter = router({
  create: authedProcedure.input(CreateEndpointInputSchema).mutation(({ ctx, input }) => createEndpoint(ctx, input)),
  list: authedProcedure
    .input(z.object({ orgId: IdSchema, includeDeleted: z.boolean().optional(), minPosition: MinPositionSchema }))
    .query(({ ctx, input }) => listEndpoints(ctx, input)),
  get: authedProcedure
    .input(EndpointRefInputSchema.extend({ minPosition: MinPositionSchema }))
    .query(({ ctx, input }) => getEndpoint(ctx, input)),
  update: authedProcedure.input(UpdateEndpointInputSchema).mutation(({ ctx, input }) => updateEndpoint(ctx, input)),
  pause: authedProcedure.input(EndpointRefInputSchema).mutation(({ ctx, input }) => pauseEndpoint(ctx, input)),
  resume: authedProcedure.input(EndpointRefInputSchema).mutation(({ ctx, input }) => resumeEndpoint(ctx, input)),
  rotateSecret: authedProcedure
    .input(RotateEndpointSecretInputSchema)
    .mutation(({ ctx, input }) => rotateEndpointSecret(ctx, input)),
  // A mutation: a secret is never asked for with GET, which proxies and browsers may cache or log.
  revealSecret: authedProcedure
    .input(EndpointRefInputSchema)
    .mutation(({ ctx, input }) => revealEndpointSecret(ctx, input)),
  delete: authedProcedure.input(EndpointRefInputSchema).mutation(({ ctx, input }) => deleteEndpoint(ctx, input)),
  ping: authedProcedure.input(EndpointRefInputSchema).mutation(({ ctx, input }) => pingEndpoint(ctx, input)),
});
