/**
 * Env parsing shared by the services. Each service declares one zod schema (its `env.ts`)
 * and parses it once at start-up with `parseEnv`, which fails listing every bad field.
 * This package is the only code that reads `process.env`.
 */
import { z } from 'zod';

export class EnvError extends Error {
  override readonly name = 'EnvError';
  constructor(readonly issues: readonly string[]) {
    super(`invalid environment:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

/** Parses `source` (default: `process.env`) with `schema`; empty strings count as unset. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  source: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return result.data;
}

/** Fields every Quorum process understands. */
export const CommonEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** PostgreSQL for the event store and read models; PGlite under DATA_DIR when unset. */
  DATABASE_URL: z.string().url().optional(),
  /**
   * PostgreSQL connections of a process's request path, all opened at start and kept (a
   * fixed-size pool). A connection stays checked out until the event loop reads its answer,
   * so a busy process needs more than its query rate suggests; past that, more connections
   * only let a hiccup put more queries on the server's cores at once. At 500 commands/s on 2
   * cores (`npm run bench`): 8 collapsed (lag 1 s), 20 kept p99 lowest, 40 had longer tails.
   */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(20),
  /** EventStoreDB as the event store (read models stay in Postgres/PGlite). */
  ESDB_URL: z.string().min(1).optional(),
  /** NATS JetStream as the bus; in-process when unset. */
  NATS_URL: z.string().min(1).optional(),
  /** Keeps one deployment's subjects and stream apart on a shared NATS (`<ns>.evt.>`, `EVENTS_<ns>`). */
  NATS_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - or _')
    .optional(),
  /** Redis for shared live state; in-process when unset. */
  REDIS_URL: z.string().url().optional(),
  /** Keeps one deployment's keys apart on a shared Redis (`ratelimit:<ns>.<name>:<key>`). */
  REDIS_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,48}$/, '1 to 48 letters, digits, - or _')
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
});
export type CommonEnv = z.infer<typeof CommonEnvSchema>;

/**
 * Mail settings of the services that send mail (the gateway, and the all-in-one process):
 * without `SMTP_URL` mail is written to a directory and the log (development only).
 */
export const MailEnvShape = {
  /** nodemailer connection URL: `smtps://user:pass@host:465`, or `smtp://user:pass@host:587` (STARTTLS). */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'SMTP_URL must start with smtp:// or smtps://')
    .optional(),
  MAIL_FROM: z.string().min(3).default('Quorum <quorum@localhost>'),
  /** Base of links in mail (`https://quorum.example.com`); without it, the address each request came to. */
  PUBLIC_URL: z.string().url().optional(),
};

/** An origin a page may connect to, as a Content-Security-Policy source: `wss://sfu.example.com`, `wss://*.example.com:8443`. */
const CONNECT_SOURCE = /^(?:https?|wss?):\/\/(?:\*\.)?[A-Za-z0-9.-]+(?::\d{1,5})?$/;

/** Settings of the services that serve browsers (the gateway, and the all-in-one process). */
export const BrowserEnvShape = {
  /**
   * Believe `X-Forwarded-Proto` from the reverse proxy in front (which must set it): `https`
   * marks the request as come over TLS (cookies `Secure`, HSTS). Off, anyone could send it.
   */
  TRUST_PROXY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Origins besides the gateway's own the web app may connect to (CSP `connect-src`), space-separated: SFU signaling on other hosts. */
  CSP_CONNECT_SRC: z
    .string()
    .transform((v) => v.split(/\s+/).filter(Boolean))
    .pipe(z.array(z.string().regex(CONNECT_SOURCE, 'each source must be an origin such as wss://sfu.example.com')))
    .default([]),
};

/**
 * What outbound webhooks may reach (the gateway checks endpoints with it when they are created
 * or changed and sends test pings under it; deliveries check every connection under it). Both
 * off in production: https only, and never this host. Development and tests turn them on to
 * use receivers at `http://127.0.0.1`. Private, link-local and metadata addresses are refused
 * whatever these say.
 */
export const WebhookPolicyEnvShape = {
  /** Plain `http:` endpoint URLs. */
  WEBHOOK_ALLOW_HTTP: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Endpoints on loopback (127.0.0.0/8, ::1, names resolving there such as `localhost`). */
  WEBHOOK_ALLOW_LOOPBACK: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
};

export { z };
