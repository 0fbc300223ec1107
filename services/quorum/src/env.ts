import { CommonEnvSchema, parseEnv, z } from '@quorum/config';

export const QuorumEnvSchema = CommonEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** HMAC key for access tokens; generated once and kept in DATA_DIR when unset. */
  AUTH_SECRET: z.string().min(32, 'AUTH_SECRET must have at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().positive().default(30),
  READ_WAIT_TIMEOUT_MS: z.coerce.number().int().positive().max(60_000).default(5_000),
  SECURE_COOKIES: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** Login attempts per email, and per client IP, in any 15 minutes; sign-ups per client IP per hour. */
  AUTH_LOGIN_LIMIT: z.coerce.number().int().positive().default(10),
  AUTH_LOGIN_IP_LIMIT: z.coerce.number().int().positive().default(100),
  AUTH_SIGNUP_IP_LIMIT: z.coerce.number().int().positive().default(20),
  /** Built web app to serve at `/`; `web/dist` when it exists. */
  WEB_DIST: z.string().min(1).optional(),
  /**
   * Where the relay and the projector run: `thread` (a worker thread; the default with
   * DATABASE_URL and NATS_URL) or `inline` (this thread; always with PGlite).
   */
  QUORUM_PIPELINE: z.enum(['thread', 'inline']).optional(),
});
export type QuorumEnv = z.infer<typeof QuorumEnvSchema>;

export function loadEnv(): QuorumEnv {
  return parseEnv(QuorumEnvSchema);
}
