import { BrowserEnvShape, CommonEnvSchema, MailEnvShape, parseEnv, WebhookPolicyEnvShape, z } from '@quorum/config';
import { EmailSchema, IdSchema } from '@quorum/domain';
import { IceServersEnvSchema } from '@quorum/signaling';

/**
 * `QUORUM_OPERATORS`: Quorum's own operators (its finance team), comma-separated, each a user
 * id or an email address (which counts only once its holder has verified it). Parsed into the
 * list, ids and addresses lower-cased; an entry that is neither is a start-up error naming it.
 */
export const OperatorsEnvSchema = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const entries = text
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    const operators: string[] = [];
    for (const entry of entries) {
      const id = IdSchema.safeParse(entry);
      const email = id.success ? undefined : EmailSchema.safeParse(entry);
      if (id.success) operators.push(id.data.toLowerCase());
      else if (email?.success) operators.push(email.data);
      else ctx.addIssue({ code: 'custom', message: `"${entry}" is neither a user id nor an email address` });
    }
    return operators;
  });

/**
 * The gateway's settings that the all-in-one process (services/quorum) takes as they are; it
 * extends this shape with what it does differently. Fields only the standalone gateway has are
 * in {@link GatewayEnvSchema}.
 */
export const GatewayEnvShape = {
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  AUTH_SECRET: z.string().min(32, 'AUTH_SECRET must have at least 32 characters'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().positive().default(30),
  READ_WAIT_TIMEOUT_MS: z.coerce.number().int().positive().max(60_000).default(5_000),
  SECURE_COOKIES: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** TRUST_PROXY (X-Forwarded-Proto), CSP_CONNECT_SRC (SFU signaling on other hosts). */
  ...BrowserEnvShape,
  /** Built web app to serve at `/`. */
  WEB_DIST: z.string().min(1).optional(),
  /** Lifetime of a join token: 1 to 300 seconds. */
  JOIN_TOKEN_TTL_SECONDS: z.coerce.number().int().min(1).max(300).default(300),
  /** A started meeting left empty this long is ended. */
  MEETING_EMPTY_GRACE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(120),
  /** How often the gateway looks for empty meetings to end; 0 turns the periodic sweep off. */
  MEETING_EMPTY_SWEEP_SECONDS: z.coerce.number().min(0).max(3_600).default(15),
  /** An SFU node run silent this long is taken for dead: its participants are recorded as disconnected. */
  SFU_NODE_LOST_GRACE_SECONDS: z.coerce.number().min(0).max(86_400).default(30),
  /** How often the gateway looks for participants of dead SFU node runs; 0 turns it off. */
  SFU_NODE_SWEEP_SECONDS: z.coerce.number().min(0).max(3_600).default(15),
  /** ICE servers for browsers, as JSON (`[{"urls":"stun:stun.example.org"}]`); none by default. */
  ICE_SERVERS: IceServersEnvSchema,
  /** Mail: SMTP_URL, MAIL_FROM, PUBLIC_URL. */
  ...MailEnvShape,
  /** Quorum's operators named in configuration (see {@link OperatorsEnvSchema}); more are granted from the command line. */
  QUORUM_OPERATORS: OperatorsEnvSchema,
  /**
   * The signing secret of Stripe's webhook endpoint (`whsec_…`): it connects `POST
   * /webhooks/stripe` and dunning. Unset, the route answers 404 (Stripe is not connected).
   */
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Days an organization may stay past due before dunning suspends it (docs/billing.md, Dunning). */
  BILLING_PAST_DUE_GRACE_DAYS: z.coerce.number().min(0).max(365).default(7),
  /** How often the gateway looks for organizations past due beyond the grace; 0 turns it off. */
  BILLING_DUNNING_SWEEP_SECONDS: z.coerce.number().min(0).max(86_400).default(3_600),
  /** Calls to `/v1` per minute per credential (API key, user); shared through Redis with REDIS_URL. */
  V1_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(600),
  /** How often an idle `/v1` event stream sends a heartbeat comment. */
  V1_STREAM_HEARTBEAT_SECONDS: z.coerce.number().min(0.05).max(300).default(15),
  /** How long a `/v1` event stream's consumer may leave its socket full before it is cut off. */
  V1_STREAM_SLOW_CONSUMER_SECONDS: z.coerce.number().min(0.05).max(600).default(30),
  /** Webhook endpoints over plain http, and on loopback (both off; docs/webhooks.md, URL rules). */
  ...WebhookPolicyEnvShape,
};

/** `/v1`'s event stream timings from the environment. */
export function v1StreamSettings(env: {
  V1_STREAM_HEARTBEAT_SECONDS: number;
  V1_STREAM_SLOW_CONSUMER_SECONDS: number;
}) {
  return {
    heartbeatMs: Math.round(env.V1_STREAM_HEARTBEAT_SECONDS * 1000),
    slowConsumerMs: Math.round(env.V1_STREAM_SLOW_CONSUMER_SECONDS * 1000),
  };
}

/** Environment of the standalone gateway (`src/main.ts`). */
export const GatewayEnvSchema = CommonEnvSchema.extend({
  /** Gateway tables and read models (and the event store unless `ESDB_URL` is set). */
  DATABASE_URL: z.string().url(),
  ...GatewayEnvShape,
  /** Meetings: all three enable them (SFU nodes share the secrets and heartbeat into Redis). */
  JOIN_TOKEN_SECRET: z.string().min(32).optional(),
  SFU_SERVICE_SECRET: z.string().min(32).optional(),
  REDIS_URL: z.string().min(1).optional(),
  REDIS_NAMESPACE: z.string().optional(),
  /** Development mail (no SMTP_URL) is written here. */
  MAIL_DIR: z.string().min(1).default('.data/mail'),
});
export type GatewayEnv = z.infer<typeof GatewayEnvSchema>;

export function parseGatewayEnv(source?: Record<string, string | undefined>): GatewayEnv {
  return parseEnv(GatewayEnvSchema, source);
}

/** Environment of the operators command line (`src/operators-cli.ts`). */
export const OperatorsCliEnvSchema = CommonEnvSchema.extend({
  /** The database whose `operators` table the gateways read. */
  DATABASE_URL: z.string().url(),
  /** To say so when a revoked operator is still named in configuration. */
  QUORUM_OPERATORS: OperatorsEnvSchema,
});
export type OperatorsCliEnv = z.infer<typeof OperatorsCliEnvSchema>;

export function parseOperatorsCliEnv(source?: Record<string, string | undefined>): OperatorsCliEnv {
  return parseEnv(OperatorsCliEnvSchema, source);
}
