/**
 * The gateway on its own: it appends to the event store and reads the read models that a
 * separately running projector keeps; `minPosition` waits poll the projector's checkpoint.
 */
import { createPgSqlDatabase, migratePublicSchema } from '@quorum/db';
import { createMailer } from '@quorum/mail';
import type { EventStore } from '@quorum/eventstore';
import { EsdbEventStore } from '@quorum/eventstore/esdb';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { waitForProjection } from '@quorum/projector/wait';
import { startTelemetry } from '@quorum/telemetry';
import { pino } from 'pino';
import { parseGatewayEnv } from './env';
import { RedisPlacement } from '@quorum/placement/redis';
import { Redis } from 'ioredis';
import { createGateway, signalingFromPlacement, type MeetingsConfig } from './gateway';

const env = parseGatewayEnv();
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'gateway' } });
const telemetry = startTelemetry({
  serviceName: env.OTEL_SERVICE_NAME ?? 'quorum-gateway',
  ...(env.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
});

const sql = createPgSqlDatabase({
  connectionString: env.DATABASE_URL,
  max: env.DATABASE_POOL_MAX,
  min: env.DATABASE_POOL_MAX,
  applicationName: 'quorum-gateway',
  onConnectionError: (err) => logger.warn({ err }, 'postgres connection failed'),
});
await sql.warm(env.DATABASE_POOL_MAX);
await migratePublicSchema(sql);
const store: EventStore = env.ESDB_URL
  ? await EsdbEventStore.create({ connectionString: env.ESDB_URL })
  : await PostgresEventStore.create(sql);
let redis: Redis | undefined;
let meetings: MeetingsConfig | undefined;
let placement: RedisPlacement | undefined;
if (env.JOIN_TOKEN_SECRET && env.SFU_SERVICE_SECRET && env.REDIS_URL) {
  redis = new Redis(env.REDIS_URL);
  redis.on('error', (err: Error) => logger.warn({ err }, 'redis connection error; reconnecting'));
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
const mailer = await createMailer({
  smtpUrl: env.SMTP_URL,
  devDir: env.MAIL_DIR,
  from: env.MAIL_FROM,
  logger: logger.child({ component: 'mail' }),
});
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
  waitForPosition: (position, timeoutMs) => waitForProjection(sql, position, timeoutMs),
  ...(env.WEB_DIST ? { staticDir: env.WEB_DIST } : {}),
});
const { port } = await gateway.http.listen(env.PORT, env.HOST);
logger.info({ port }, 'gateway listening');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    (async () => {
      await gateway.http.close();
      await mailer.close();
      await redis?.quit();
      await store.close();
      await sql.close();
      await telemetry.shutdown().catch((err: Error) => logger.warn({ err }, 'telemetry flush failed'));
    })().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
