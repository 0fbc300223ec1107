/**
 * Quorum in one process: gateway, relay, projector and the consumers (metering, webhook
 * delivery, the billing sync) over shared adapters. With no
 * environment it runs on PGlite under DATA_DIR and the in-process bus (the embedded
 * default); DATABASE_URL, NATS_URL, ESDB_URL and REDIS_URL switch each port to its server.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { EventBus } from '@quorum/bus';
import type { SqlDatabase } from '@quorum/db';
import type { EventStore } from '@quorum/eventstore';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import {
  authRateLimitOptions,
  createGateway,
  createMemoryAuthRateLimiters,
  createMemoryV1RateLimiter,
  signalingFromPlacement,
  v1RateLimitOptions,
  type AuthRateLimiters,
  type Gateway,
} from '@quorum/gateway/gateway';
import { eventTailSettings, v1StreamSettings } from '@quorum/gateway/env';
import { createMailer } from '@quorum/mail';
import { meteringOptions } from '@quorum/metering/env';
import { MemoryPlacement, type Placement } from '@quorum/placement';
import { RedisPlacement } from '@quorum/placement/redis';
import type { RateLimiter } from '@quorum/ratelimit';
import { RedisRateLimiter } from '@quorum/ratelimit/redis';
import { Lifecycle, openBus, openNatsBus, openStore } from '@quorum/runtime';
import { startSfu, type Sfu } from '@quorum/sfu';
import { sfuNodeOptions } from '@quorum/sfu/env';
import { serveSfuState } from '@quorum/sfu/http';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { quorumWebhooksOptions, type QuorumEnv } from './env';
import { startInlinePipeline, type Pipeline } from './pipeline/pipeline';
import { startThreadPipeline } from './pipeline/thread-pipeline';

export interface QuorumApp {
  gateway: Gateway;
  /** The relay and the projector, on this thread or a worker thread. */
  pipeline: Pipeline;
  store: EventStore;
  /** The bus of this thread; a worker-thread pipeline has its own connection. */
  bus: EventBus | undefined;
  sql: SqlDatabase;
  /** The port the gateway listens on. */
  port: number;
  /** The embedded SFU node (`SFU=embedded`). */
  sfu: Sfu | undefined;
  /** Meeting → SFU node placement (Redis with REDIS_URL). */
  placement: Placement;
  /**
   * Drains servers, then consumers, then the bus, Redis and mail, then the store and the
   * database (the order of `@quorum/runtime`); idempotent. Resolves false when a step failed
   * (logged); the rest are closed all the same.
   */
  close(): Promise<boolean>;
}

/** A secret from the environment, or generated once and kept in DATA_DIR under `name`. */
async function secretOf(given: string | undefined, env: QuorumEnv, name: string, logger: Logger): Promise<string> {
  if (given) return given;
  const file = join(env.DATA_DIR, name);
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(env.DATA_DIR, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  await writeFile(file, secret, { mode: 0o600 });
  await chmod(file, 0o600);
  logger.info({ file }, `generated ${name} for this data directory`);
  return secret;
}

/** One client for every Redis-backed port; start-up fails here when Redis does not answer. */
async function connectRedis(url: string, logger: Logger): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(
      `Redis at REDIS_URL is not reachable (${(err as Error).message}); start it, or unset REDIS_URL for in-process rate limits.`,
      { cause: err },
    );
  }
  // After start-up ioredis reconnects by itself; readiness reports the outage meanwhile.
  redis.on('error', (err: Error) => logger.warn({ err }, 'redis connection error; reconnecting'));
  return redis;
}

async function redisReadiness(redis: Redis): Promise<{ ok: boolean; detail?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('PING got no answer within 1000 ms')), 1_000);
    });
    const pong = await Promise.race([redis.ping(), timeout]);
    return pong === 'PONG' ? { ok: true } : { ok: false, detail: `PING answered ${pong}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export async function startQuorum(env: QuorumEnv, logger: Logger): Promise<QuorumApp> {
  const life = new Lifecycle({ logger });
  try {
    const pgdata = resolve(env.DATA_DIR, 'pgdata');
    const { sql, store, adapter } = life.use(
      'store',
      'event store and database',
      await openStore({
        database: env.DATABASE_URL
          ? {
              kind: 'postgres',
              connectionString: env.DATABASE_URL,
              // A fixed-size pool, all open before the first request: see PgSqlDatabaseOptions.min.
              poolSize: env.DATABASE_POOL_MAX,
              applicationName: 'quorum',
            }
          : { kind: 'pglite', dataDir: pgdata },
        esdbUrl: env.ESDB_URL,
        migratePublicSchema: true,
      }),
    );
    if (env.DATABASE_URL) logger.info('database: PostgreSQL (DATABASE_URL)');
    else logger.info({ dataDir: pgdata }, 'database: embedded PGlite');
    logger.info(adapter === 'esdb' ? 'event store: EventStoreDB (ESDB_URL)' : 'event store: PostgreSQL adapter');

    // With PostgreSQL and NATS the relay and the projector run on a worker thread with their
    // own connections, so HTTP handling and event processing each get a core. PGlite is one
    // session in this thread, so the embedded default keeps them here.
    const threaded =
      env.QUORUM_PIPELINE === 'thread' ||
      (env.QUORUM_PIPELINE === undefined && env.DATABASE_URL !== undefined && env.NATS_URL !== undefined);
    let bus: EventBus | undefined;
    if (!threaded) {
      const opened = await openBus({ natsUrl: env.NATS_URL, name: 'quorum', namespace: env.NATS_NAMESPACE });
      bus = life.use('connection', 'bus', opened.bus);
      logger.info(opened.kind === 'nats' ? 'bus: NATS JetStream (NATS_URL)' : 'bus: in-process');
    }

    let redis: Redis | undefined;
    let rateLimiter: AuthRateLimiters;
    let v1RateLimiter: RateLimiter;
    const limits = authRateLimitOptions({
      login: env.AUTH_LOGIN_LIMIT,
      loginByIp: env.AUTH_LOGIN_IP_LIMIT,
      signUp: env.AUTH_SIGNUP_IP_LIMIT,
      ...(env.REDIS_NAMESPACE ? { namespace: env.REDIS_NAMESPACE } : {}),
    });
    if (env.REDIS_URL) {
      const client = await connectRedis(env.REDIS_URL, logger);
      redis = client;
      life.onClose('connection', 'redis', () => client.quit());
      rateLimiter = {
        login: await RedisRateLimiter.create({ redis: client, ...limits.login }),
        loginByIp: await RedisRateLimiter.create({ redis: client, ...limits.loginByIp }),
        signUp: await RedisRateLimiter.create({ redis: client, ...limits.signUp }),
      };
      v1RateLimiter = await RedisRateLimiter.create({
        redis: client,
        ...v1RateLimitOptions(env.V1_RATE_LIMIT_PER_MINUTE, env.REDIS_NAMESPACE),
      });
      logger.info('rate limits: Redis (REDIS_URL)');
    } else {
      rateLimiter = createMemoryAuthRateLimiters(limits);
      v1RateLimiter = createMemoryV1RateLimiter(env.V1_RATE_LIMIT_PER_MINUTE);
      logger.info('rate limits: in-process');
    }

    const placement: Placement = redis
      ? new RedisPlacement({ redis, ...(env.REDIS_NAMESPACE ? { namespace: `${env.REDIS_NAMESPACE}:placement` } : {}) })
      : new MemoryPlacement();
    logger.info(redis ? 'meeting placement: Redis (REDIS_URL)' : 'meeting placement: in-process');

    let sfu: Sfu | undefined;
    let pipeline: Pipeline;
    if (threaded) {
      if (env.QUORUM_PIPELINE === 'thread' && (!env.DATABASE_URL || !env.NATS_URL)) {
        throw new Error('QUORUM_PIPELINE=thread needs DATABASE_URL and NATS_URL');
      }
      pipeline = await startThreadPipeline(env, logger);
      logger.info('relay and projector: worker thread');
    } else {
      pipeline = await startInlinePipeline({
        store,
        bus: bus!,
        sql,
        logger,
        metering: meteringOptions(env),
        billing: env,
        redis,
        webhooks: quorumWebhooksOptions(env),
      });
      logger.info('relay and projector: this thread');
    }
    life.use('consumer', 'relay and projector', pipeline);
    const appendedHint = pipeline.appended?.bind(pipeline);
    if (appendedHint && store instanceof PostgresEventStore) store.onAppended(appendedHint);

    const webDist = env.WEB_DIST ?? resolve('web/dist');
    const mailer = await createMailer({
      smtpUrl: env.SMTP_URL,
      devDir: join(env.DATA_DIR, 'mail'),
      from: env.MAIL_FROM,
      logger: logger.child({ component: 'mail' }),
    });
    life.use('connection', 'mailer', mailer);
    const gateway = await createGateway({
      mailer,
      ...(env.PUBLIC_URL ? { publicUrl: env.PUBLIC_URL } : {}),
      sql,
      store,
      emptySweepIntervalMs: env.MEETING_EMPTY_SWEEP_SECONDS * 1000,
      // 0 turns the timed sweep off; `gateway.lostNodeSweeper.sweep()` still runs one pass.
      lostNodes: {
        placement,
        graceMs: env.SFU_NODE_LOST_GRACE_SECONDS * 1000,
        intervalMs: env.SFU_NODE_SWEEP_SECONDS * 1000,
      },
      logger: logger.child({ component: 'gateway' }),
      authSecret: await secretOf(env.AUTH_SECRET, env, 'auth-secret', logger),
      meetings: {
        joinTokenSecret: await secretOf(env.JOIN_TOKEN_SECRET, env, 'join-token-secret', logger),
        joinTokenTtlSeconds: env.JOIN_TOKEN_TTL_SECONDS,
        serviceSecret: await secretOf(env.SFU_SERVICE_SECRET, env, 'sfu-service-secret', logger),
        iceServers: env.ICE_SERVERS,
        emptyGraceMs: env.MEETING_EMPTY_GRACE_SECONDS * 1000,
        // The node hosting the meeting, from the placement every SFU node heartbeats into.
        signalingUrlFor: signalingFromPlacement(placement),
      },
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_DAYS * 86_400,
      readWaitTimeoutMs: env.READ_WAIT_TIMEOUT_MS,
      waitForPosition: (position, timeoutMs) => pipeline.waitForPosition(position, timeoutMs),
      onProjected: (listener) => pipeline.onAdvance(listener),
      secureCookies: env.SECURE_COOKIES,
      trustProxy: env.TRUST_PROXY,
      connectSources: env.CSP_CONNECT_SRC,
      operators: env.QUORUM_OPERATORS,
      webhooks: { policy: { allowHttp: env.WEBHOOK_ALLOW_HTTP, allowLoopback: env.WEBHOOK_ALLOW_LOOPBACK } },
      // This process runs the billing sync when it has a Stripe key.
      stripeSync: env.STRIPE_SECRET_KEY !== undefined,
      ...(env.STRIPE_WEBHOOK_SECRET
        ? {
            stripe: {
              webhookSecret: env.STRIPE_WEBHOOK_SECRET,
              pastDueGraceMs: env.BILLING_PAST_DUE_GRACE_DAYS * 86_400_000,
              dunningIntervalMs: env.BILLING_DUNNING_SWEEP_SECONDS * 1000,
            },
          }
        : {}),
      ...(existsSync(join(webDist, 'index.html')) ? { staticDir: webDist } : {}),
      rateLimiter,
      v1: { rateLimiter: v1RateLimiter, stream: v1StreamSettings(env) },
      eventTail: eventTailSettings(env),
      readiness: async () => ({
        ...(await pipeline.readiness()),
        // The embedded SFU starts once the gateway listens (its URL needs the port).
        ...(env.SFU === 'embedded'
          ? {
              sfu: sfu
                ? { ok: sfu.pool.liveWorkers().length > 0, detail: { workers: sfu.pool.liveWorkers().length } }
                : { ok: false, detail: 'starting' },
            }
          : {}),
        ...(redis ? { redis: await redisReadiness(redis) } : {}),
      }),
    });
    const { port } = await gateway.http.listen(env.PORT, env.HOST);
    life.use('server', 'gateway', gateway.http);

    if (env.SFU === 'embedded') {
      // Host controls need the bus on this thread; with the pipeline on a worker thread, the SFU connects its own.
      let sfuBus = bus;
      if (!sfuBus && env.NATS_URL) {
        sfuBus = life.use(
          'connection',
          'SFU bus',
          await openNatsBus({
            servers: env.NATS_URL,
            name: 'quorum-sfu',
            namespace: env.NATS_NAMESPACE,
            ensureStream: false,
          }),
        );
      }
      const host = env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST;
      const signalingUrl = env.SFU_PUBLIC_URL ?? `ws://${host}:${port}/sfu`;
      // The web app reaches it there, which need not be the host it was loaded from.
      gateway.http.allowConnectSource(new URL(signalingUrl).origin);
      sfu = await startSfu({
        nodeId: env.SFU_NODE_ID,
        logger,
        ...sfuNodeOptions(env),
        joinTokenSecret: gateway.deps.meetings!.joinTokenSecret,
        gateway: { url: `http://${host}:${port}`, serviceSecret: gateway.deps.meetings!.serviceSecret },
        ...(sfuBus ? { bus: sfuBus } : {}),
        placement: { placement, signalingUrl },
      });
      const embedded = sfu;
      gateway.http.routeUpgrade('/sfu', (req, socket, head) => embedded.server.handleUpgrade(req, socket, head));
      // What the node holds (meetings, modes, media rooms, transports): for operators on this host only.
      const stateSecret = gateway.deps.meetings!.serviceSecret;
      gateway.http.routeRequest('/sfu/state', (req, res) => serveSfuState(embedded, req, res, stateSecret));
      // Closed before the gateway: participants are told to reconnect and their leaves reported.
      life.use('server', 'embedded SFU', embedded);
      logger.info({ workers: sfu.pool.workerCount }, 'SFU: embedded (signaling at /sfu)');
    } else {
      logger.info('SFU: off (meetings use SFU nodes registered in the placement)');
    }
    logger.info({ url: `http://${env.HOST === '0.0.0.0' ? 'localhost' : env.HOST}:${port}` }, 'Quorum is listening');

    return { gateway, pipeline, store, bus, sql, port, sfu, placement, close: () => life.close() };
  } catch (err) {
    await life.close();
    throw err;
  }
}
