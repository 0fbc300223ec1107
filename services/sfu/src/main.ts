/**
 * A standalone SFU node: mediasoup workers, signaling at `/sfu`, heartbeats into the Redis
 * placement the gateways read, host controls from NATS, joins and leaves reported to the
 * gateway. Start several on different hosts; a node that stops heartbeating is not chosen.
 */
import { RedisPlacement } from '@quorum/placement/redis';
import { openNatsBus, run } from '@quorum/runtime';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { parseSfuEnv, sfuNodeOptions } from './env';
import { createSfuHttpServer } from './http';
import { startSfu } from './sfu';

const env = parseSfuEnv();
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'sfu', nodeId: env.SFU_NODE_ID } });

await run({ name: 'SFU node', logger }, async (life) => {
  const redis = new Redis(env.REDIS_URL);
  life.onClose('connection', 'redis', () => redis.quit());
  redis.on('error', (err: Error) => logger.warn({ err }, 'redis connection error; reconnecting'));
  const bus = life.use(
    'connection',
    'nats',
    await openNatsBus({ servers: env.NATS_URL, name: `sfu-${env.SFU_NODE_ID}`, namespace: env.NATS_NAMESPACE }),
  );
  const sfu = await startSfu({
    nodeId: env.SFU_NODE_ID,
    logger,
    ...sfuNodeOptions(env),
    joinTokenSecret: env.JOIN_TOKEN_SECRET,
    gateway: { url: env.GATEWAY_URL, serviceSecret: env.SFU_SERVICE_SECRET },
    bus,
    placement: {
      placement: new RedisPlacement({
        redis,
        ...(env.REDIS_NAMESPACE ? { namespace: `${env.REDIS_NAMESPACE}:placement` } : {}),
      }),
      signalingUrl: env.SFU_PUBLIC_URL,
      heartbeatMs: Math.round(env.SFU_HEARTBEAT_SECONDS * 1000),
      ttlMs: Math.round(env.SFU_HEARTBEAT_TTL_SECONDS * 1000),
    },
  });
  const http = createSfuHttpServer(sfu, env.SFU_SERVICE_SECRET);
  life.use('server', 'http server', http);
  // Registered after its HTTP server so it closes first: participants are told to reconnect
  // and their leaves reported while the server still stands.
  life.use('server', 'SFU node', sfu);
  const { port } = await http.listen(env.PORT, env.HOST);
  logger.info({ port, publicUrl: env.SFU_PUBLIC_URL }, 'SFU node listening');
});
