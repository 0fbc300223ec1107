/**
 * The gateway on its own: it appends to the event store and reads the read models that a
 * separately running projector keeps; `minPosition` waits poll the projector's checkpoint.
 */
import { createMailer } from '@quorum/mail';
import { waitForProjection } from '@quorum/projector/wait';
import { openPostgresStore, run } from '@quorum/runtime';
import { useTelemetry } from '@quorum/runtime/telemetry';
import { pino } from 'pino';
import { parseGatewayEnv, v1StreamSettings } from './env';
import { RedisPlacement } from '@quorum/placement/redis';
import { Redis } from 'ioredis';
import { RedisRateLimiter } from '@quorum/ratelimit/redis';
import {
  createGateway,
  createMemoryV1RateLimiter,
  signalingFromPlacement,
  v1RateLimitOptions,
  type MeetingsConfig,
} from './gateway';

const env = parseGatewayEnv();
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'gateway' } });

await run({ name: 'gateway', logger }, async (life) => {
  useTelemetry(life, {
    serviceName: env.OTEL_SERVICE_NAME ?? 'quorum-gateway',
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  const { sql, store } = life.use(
    'store',
    'event store and database',
    await openPostgresStore({
      connectionString: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_MAX,
      applicationName: 'quorum-gateway',
      esdbUrl: env.ESDB_URL,
      migratePublicSchema: true,
      logger,
    }),
  );
  let meetings: MeetingsConfig | undefined;
  let placement: RedisPlacement | undefined;
  let redis: Redis | undefined;
  if (env.REDIS_URL) {
    const client = new Redis(env.REDIS_URL);
    redis = client;
    life.onClose('connection', 'redis', () => client.quit());
    client.on('error', (err: Error) => logger.warn({ err }, 'redis connection error; reconnecting'));
  }
  // Every gateway counts /v1 calls in Redis when there is one, so a credential's limit is global.
  const v1RateLimiter = redis
    ? await RedisRateLimiter.create({
        redis,
        ...v1RateLimitOptions(env.V1_RATE_LIMIT_PER_MINUTE, env.REDIS_NAMESPACE),
      })
    : createMemoryV1RateLimiter(env.V1_RATE_LIMIT_PER_MINUTE);
  if (env.JOIN_TOKEN_SECRET && env.SFU_SERVICE_SECRET && redis) {
    placement = new RedisPlacement({
      redis,
      ...(env.REDIS_NAMESPACE ? { namespace: `${env.REDIS_NAMESPACE}:placement` } : {}),
    });
    meetings = {
      joinTokenSecret: env.JOIN_TOKEN_SECRET,
      joinTokenTtlSeconds: env.JOIN_TOKEN_TTL_SECONDS,
      serviceSecret: env.SFU_SERVICE_SECRET,
      iceServers: env.ICE_SERVERS,
      emptyGraceMs: env.MEETING_EMPTY_GRACE_SECONDS * 1000,
      signalingUrlFor: signalingFromPlacement(placement),
    };
  } else {
    logger.warn('meetings disabled: set JOIN_TOKEN_SECRET, SFU_SERVICE_SECRET and REDIS_URL to enable them');
  }
  const mailer = life.use(
    'connection',
    'mailer',
    await createMailer({
      smtpUrl: env.SMTP_URL,
      devDir: env.MAIL_DIR,
      from: env.MAIL_FROM,
      logger: logger.child({ component: 'mail' }),
    }),
  );
  const gateway = await createGateway({
    mailer,
    ...(env.PUBLIC_URL ? { publicUrl: env.PUBLIC_URL } : {}),
    ...(meetings ? { meetings } : {}),
    emptySweepIntervalMs: env.MEETING_EMPTY_SWEEP_SECONDS * 1000,
    ...(placement
      ? {
          lostNodes: {
            placement,
            graceMs: env.SFU_NODE_LOST_GRACE_SECONDS * 1000,
            intervalMs: env.SFU_NODE_SWEEP_SECONDS * 1000,
          },
        }
      : {}),
    sql,
    store,
    logger,
    authSecret: env.AUTH_SECRET,
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_DAYS * 86_400,
    readWaitTimeoutMs: env.READ_WAIT_TIMEOUT_MS,
    secureCookies: env.SECURE_COOKIES,
    trustProxy: env.TRUST_PROXY,
    connectSources: env.CSP_CONNECT_SRC,
    operators: env.QUORUM_OPERATORS,
    ...(env.STRIPE_WEBHOOK_SECRET
      ? {
          stripe: {
            webhookSecret: env.STRIPE_WEBHOOK_SECRET,
            pastDueGraceMs: env.BILLING_PAST_DUE_GRACE_DAYS * 86_400_000,
            dunningIntervalMs: env.BILLING_DUNNING_SWEEP_SECONDS * 1000,
          },
        }
      : {}),
    webhooks: { policy: { allowHttp: env.WEBHOOK_ALLOW_HTTP, allowLoopback: env.WEBHOOK_ALLOW_LOOPBACK } },
    waitForPosition: (position, timeoutMs) => waitForProjection(sql, position, timeoutMs),
    v1: { rateLimiter: v1RateLimiter, stream: v1StreamSettings(env) },
    ...(env.WEB_DIST ? { staticDir: env.WEB_DIST } : {}),
  });
  const { port } = await gateway.http.listen(env.PORT, env.HOST);
  life.use('server', 'http server', gateway.http);
  logger.info({ port }, 'gateway listening');
});
