import { BrowserEnvShape, CommonEnvSchema, MailEnvShape, parseEnv, z } from '@quorum/config';
import { IceServersEnvSchema } from '@quorum/signaling';

export const QuorumEnvSchema = CommonEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** HMAC key for access tokens; generated once and kept in DATA_DIR when unset. */
  AUTH_SECRET: z.string().min(32, 'AUTH_SECRET must have at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().positive().default(30),
  READ_WAIT_TIMEOUT_MS: z.coerce.number().int().positive().max(60_000).default(5_000),
  SECURE_COOKIES: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** TRUST_PROXY (X-Forwarded-Proto), CSP_CONNECT_SRC (SFU signaling on other hosts). */
  ...BrowserEnvShape,
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
  /** Signs join tokens (shared with SFU nodes); generated once and kept in DATA_DIR when unset. */
  JOIN_TOKEN_SECRET: z.string().min(32, 'JOIN_TOKEN_SECRET must have at least 32 characters').optional(),
  /** Signs the SFU's calls to the gateway (shared with SFU nodes); generated and kept in DATA_DIR when unset. */
  SFU_SERVICE_SECRET: z.string().min(32, 'SFU_SERVICE_SECRET must have at least 32 characters').optional(),
  /** Lifetime of a join token: 1 to 300 seconds. */
  JOIN_TOKEN_TTL_SECONDS: z.coerce.number().int().min(1).max(300).default(300),
  /** ICE servers for browsers, as JSON (`[{"urls":"stun:stun.example.org"}]`); none by default. */
  ICE_SERVERS: IceServersEnvSchema,
  /** `embedded`: this process runs an SFU node (mediasoup workers, signaling at /sfu); `off`: meetings need SFU nodes elsewhere. */
  SFU: z.enum(['embedded', 'off']).default('embedded'),
  /** Stable id of the embedded SFU node (placement key, durable consumer). */
  SFU_NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/)
    .default('embedded'),
  /** mediasoup workers; one per core by default. */
  SFU_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
  /** Consumers a worker takes before a room spreads to another worker. */
  SFU_CONSUMER_BUDGET: z.coerce.number().int().min(1).default(500),
  /** Microphones forwarded at once in a meeting with more unmuted ones (the most recently heard); 0: every one. */
  SFU_AUDIBLE_SPEAKERS: z.coerce.number().int().min(0).max(64).default(3),
  /** First WebRtcServer port (worker i listens on it + i, UDP and TCP), or `auto`. */
  SFU_RTC_PORT: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(65_535)]).default(44_400),
  /** IP announced in ICE candidates when browsers reach the SFU through another address. */
  SFU_ANNOUNCED_IP: z.string().min(1).optional(),
  /** Public signaling URL of the embedded node; `ws://<HOST>:<PORT>/sfu` by default. */
  SFU_PUBLIC_URL: z.string().url().optional(),
  /** A dropped participant is reported as left after this long unless they rejoin. */
  SFU_RECONNECT_GRACE_SECONDS: z.coerce.number().min(0).max(300).default(10),
  /** A leave the gateway does not take (it is away, it answers 5xx) is tried again for this long. */
  SFU_LEAVE_RETRY_SECONDS: z.coerce.number().min(0).max(86_400).default(600),
  /** A started meeting left empty this long is ended. */
  MEETING_EMPTY_GRACE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(120),
  /** How often the gateway looks for empty meetings to end; 0 turns the periodic sweep off. */
  MEETING_EMPTY_SWEEP_SECONDS: z.coerce.number().min(0).max(3_600).default(15),
  /** An SFU node run silent this long is taken for dead: its participants are recorded as disconnected. */
  SFU_NODE_LOST_GRACE_SECONDS: z.coerce.number().min(0).max(86_400).default(30),
  /** How often the gateway looks for participants of dead SFU node runs; 0 turns it off. */
  SFU_NODE_SWEEP_SECONDS: z.coerce.number().min(0).max(3_600).default(15),
  /** Mail (SMTP_URL, MAIL_FROM, PUBLIC_URL); without SMTP_URL, mail is written to DATA_DIR/mail and the log. */
  ...MailEnvShape,
});
export type QuorumEnv = z.infer<typeof QuorumEnvSchema>;

export function loadEnv(): QuorumEnv {
  return parseEnv(QuorumEnvSchema);
}
