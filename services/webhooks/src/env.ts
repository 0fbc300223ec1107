import { CommonEnvSchema, parseEnv, WebhookPolicyEnvShape, z } from '@quorum/config';

/** Settings of webhook delivery, shared by its own process and the all-in-one process. */
export const WebhooksEnvShape = {
  /** WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOW_LOOPBACK: the gateway's, checked again at every connection. */
  ...WebhookPolicyEnvShape,
  /** Multiplies every delay of the retry schedule (0.001 in tests: 5 minutes become 300 ms). */
  WEBHOOK_RETRY_SCALE: z.coerce.number().positive().max(1_000).default(1),
  /** How long one attempt may take, connection to last byte. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /** An endpoint with no success for longer than this since its first failure is disabled (`failing`). */
  WEBHOOK_DISABLE_AFTER_HOURS: z.coerce.number().positive().max(8_760).default(120),
  /** Attempts in flight at once in this process. */
  WEBHOOK_WORKERS: z.coerce.number().int().min(1).max(1_000).default(32),
  /**
   * The gateway's public origin, for the envelope's `dataschema` (`https://quorum.example.com`).
   * Default: `http://localhost:3000`, where `npm start` serves.
   */
  PUBLIC_URL: z.string().url().optional(),
} as const;

/** Environment of the standalone delivery process (`src/main.ts`). */
export const WebhooksEnvSchema = CommonEnvSchema.extend({
  /** Holds the delivery tables (and the event store unless `ESDB_URL` is set). */
  DATABASE_URL: z.string().url(),
  NATS_URL: z.string().min(1),
  /** Durable consumer name of the fan-out; instances sharing it share the work. */
  WEBHOOK_DURABLE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/)
    .default('webhooks'),
  /** Port of `/health` and `/health/ready` on 127.0.0.1 unless HEALTH_HOST; 0 picks one; unset: none. */
  HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  ...WebhooksEnvShape,
});
export type WebhooksEnv = z.infer<typeof WebhooksEnvSchema>;

export function parseWebhooksEnv(source?: Record<string, string | undefined>): WebhooksEnv {
  return parseEnv(WebhooksEnvSchema, source);
}

/** Where the envelope's `dataschema` points when `PUBLIC_URL` is unset. */
export const DEFAULT_PUBLIC_URL = 'http://localhost:3000';

/** The engine's options from the environment. */
export function webhooksOptions(env: {
  WEBHOOK_ALLOW_HTTP: boolean;
  WEBHOOK_ALLOW_LOOPBACK: boolean;
  WEBHOOK_RETRY_SCALE: number;
  WEBHOOK_TIMEOUT_MS: number;
  WEBHOOK_DISABLE_AFTER_HOURS: number;
  WEBHOOK_WORKERS: number;
  PUBLIC_URL?: string | undefined;
}) {
  return {
    policy: { allowHttp: env.WEBHOOK_ALLOW_HTTP, allowLoopback: env.WEBHOOK_ALLOW_LOOPBACK },
    retryScale: env.WEBHOOK_RETRY_SCALE,
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    disableAfterMs: env.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
    concurrency: env.WEBHOOK_WORKERS,
    publicUrl: env.PUBLIC_URL ?? DEFAULT_PUBLIC_URL,
  };
}
