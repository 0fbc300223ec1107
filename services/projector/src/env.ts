import { CommonEnvSchema, parseEnv, z } from '@quorum/config';

export const ProjectorEnvSchema = CommonEnvSchema.extend({
  PORT: z.coerce.number().int().min(1).max(65_535).default(3002),
  HOST: z.string().min(1).default('127.0.0.1'),
  PROJECTOR_MAX_ATTEMPTS: z.coerce.number().int().positive().default(5),
  PROJECTOR_DURABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/)
    .default('projector'),
  REBUILD_BATCH_SIZE: z.coerce.number().int().positive().max(10_000).default(5_000),
  /** Transactions writing each batch at once, each for its share of the organizations. */
  REBUILD_PARTITIONS: z.coerce.number().int().min(1).max(8).default(2),
  /** Version to rebuild into; the active version + 1 when unset. */
  REBUILD_VERSION: z.coerce.number().int().positive().optional(),
});
export type ProjectorEnv = z.infer<typeof ProjectorEnvSchema>;

/** Parses the environment once; throws listing every bad field. */
export function loadProjectorEnv(source?: Record<string, string | undefined>): ProjectorEnv {
  return parseEnv(ProjectorEnvSchema, source);
}
