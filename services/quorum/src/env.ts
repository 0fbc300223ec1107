import { CommonEnvSchema, parseEnv, z } from '@quorum/config';
import { BillingEnvShape } from '@quorum/billing/env';
import { GatewayEnvShape } from '@quorum/gateway/env';
import { MeteringEnvShape } from '@quorum/metering/env';
import { SfuNodeEnvShape } from '@quorum/sfu/env';
import { WebhooksEnvShape, webhooksOptions } from '@quorum/webhook-delivery/env';

/** The gateway's settings and an embedded SFU node's, with what the one process does differently. */
export const QuorumEnvSchema = CommonEnvSchema.extend({
  ...GatewayEnvShape,
  /** HMAC key for access tokens; generated once and kept in DATA_DIR when unset. */
  AUTH_SECRET: GatewayEnvShape.AUTH_SECRET.optional(),
  /** Login attempts per email, and per client IP, in any 15 minutes; sign-ups per client IP per hour. */
  AUTH_LOGIN_LIMIT: z.coerce.number().int().positive().default(10),
  AUTH_LOGIN_IP_LIMIT: z.coerce.number().int().positive().default(100),
  AUTH_SIGNUP_IP_LIMIT: z.coerce.number().int().positive().default(20),
  /** Built web app to serve at `/`; `web/dist` when it exists. */
  WEB_DIST: GatewayEnvShape.WEB_DIST,
  /**
   * Where the relay and the projector run: `thread` (a worker thread; the default with
   * DATABASE_URL and NATS_URL) or `inline` (this thread; always with PGlite).
   */
  QUORUM_PIPELINE: z.enum(['thread', 'inline']).optional(),
  /** Signs join tokens (shared with SFU nodes); generated once and kept in DATA_DIR when unset. */
  JOIN_TOKEN_SECRET: z.string().min(32, 'JOIN_TOKEN_SECRET must have at least 32 characters').optional(),
  /** Signs the SFU's calls to the gateway (shared with SFU nodes); generated and kept in DATA_DIR when unset. */
  SFU_SERVICE_SECRET: z.string().min(32, 'SFU_SERVICE_SECRET must have at least 32 characters').optional(),
  /** `embedded`: this process runs an SFU node (mediasoup workers, signaling at /sfu); `off`: meetings need SFU nodes elsewhere. */
  SFU: z.enum(['embedded', 'off']).default('embedded'),
  /** Stable id of the embedded SFU node (placement key, durable consumer). */
  SFU_NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/)
    .default('embedded'),
  /** Public signaling URL of the embedded node; `ws://<HOST>:<PORT>/sfu` by default. */
  SFU_PUBLIC_URL: z.string().url().optional(),
  /** Workers, consumer budget, audible speakers, RTC port, announced IP, reconnect and leave timings. */
  ...SfuNodeEnvShape,
  /** Cut points, settling and timer of the metering consumer. */
  ...MeteringEnvShape,
  /** The Stripe sync (off without STRIPE_SECRET_KEY): key, API base, prices, meter, call rate. */
  ...BillingEnvShape,
  /** Webhook delivery: outbound policy, retry scale, timeout, failing window, workers (PUBLIC_URL is the gateway's). */
  ...WebhooksEnvShape,
  PUBLIC_URL: GatewayEnvShape.PUBLIC_URL,
});
export type QuorumEnv = z.infer<typeof QuorumEnvSchema>;

/** Webhook delivery's options: `dataschema` points at this process's own port unless PUBLIC_URL is set. */
export function quorumWebhooksOptions(env: QuorumEnv) {
  return webhooksOptions({ ...env, PUBLIC_URL: env.PUBLIC_URL ?? `http://localhost:${env.PORT}` });
}

export function loadEnv(): QuorumEnv {
  return parseEnv(QuorumEnvSchema);
}
