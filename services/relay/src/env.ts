import { CommonEnvSchema, parseEnv, z } from '@quorum/config';

/** Environment of the standalone relay (`src/main.ts`). */
export const RelayEnvSchema = CommonEnvSchema.extend({
  /** Holds the relay checkpoint and leader lock (and the event store unless `ESDB_URL` is set). */
  DATABASE_URL: z.string().url(),
  NATS_URL: z.string().min(1),
  /** Checkpoint row and leader-lock name; relays sharing a name share one leader. */
  RELAY_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'letters, digits, `_`, `.`, `:` and `-` only')
    .default('events'),
  RELAY_BATCH_SIZE: z.coerce.number().int().positive().max(10_000).default(256),
  RELAY_LEADER_RETRY_MS: z.coerce.number().int().positive().default(2_000),
  /** Longest an acknowledged position waits to be checkpointed; 0 writes after every batch. */
  RELAY_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(200),
});
export type RelayEnv = z.infer<typeof RelayEnvSchema>;

export function parseRelayEnv(source?: Record<string, string | undefined>): RelayEnv {
  return parseEnv(RelayEnvSchema, source);
}
