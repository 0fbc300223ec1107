import { CommonEnvSchema, parseEnv, z } from '@quorum/config';

/** Settings of the metering consumer, shared by its own process and the all-in-one process. */
export const MeteringEnvShape = {
  /** Spacing of the usage cut points in seconds (UTC); must divide a day. Default 5 minutes. */
  METERING_INTERVAL_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .refine((s) => 86_400 % s === 0, 'must divide a day (86,400 seconds)')
    .default(300),
  /**
   * How far behind the clock metering counts time as settled. At least the longest a leave may
   * be backdated (120 s, `MAX_LEAVE_BACKDATE_MS`) plus clock skew between hosts; default 150.
   */
  METERING_SETTLE_LAG_SECONDS: z.coerce.number().int().min(0).max(86_400).default(150),
  /** How often sessions whose next interval has settled are metered again, in ms. */
  METERING_TICK_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),
} as const;

/** Environment of the standalone metering consumer (`src/main.ts`). */
export const MeteringEnvSchema = CommonEnvSchema.extend({
  /** Holds the metering tables (and the event store unless `ESDB_URL` is set). */
  DATABASE_URL: z.string().url(),
  NATS_URL: z.string().min(1),
  /** Durable consumer name; instances sharing it share the work. */
  METERING_DURABLE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/)
    .default('metering'),
  ...MeteringEnvShape,
});
export type MeteringEnv = z.infer<typeof MeteringEnvSchema>;

export function parseMeteringEnv(source?: Record<string, string | undefined>): MeteringEnv {
  return parseEnv(MeteringEnvSchema, source);
}

/** The consumer's options from the environment. */
export function meteringOptions(env: {
  METERING_INTERVAL_SECONDS: number;
  METERING_SETTLE_LAG_SECONDS: number;
  METERING_TICK_MS: number;
}) {
  return {
    intervalSeconds: env.METERING_INTERVAL_SECONDS,
    settleLagMs: env.METERING_SETTLE_LAG_SECONDS * 1000,
    tickMs: env.METERING_TICK_MS,
  };
}
