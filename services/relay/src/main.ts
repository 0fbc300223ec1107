/**
 * Composition root of the standalone relay: Postgres (checkpoint, leader lock and, unless
 * `ESDB_URL` is set, the event store) → relay → NATS JetStream.
 */
import { openNatsBus, run } from '@quorum/runtime';
import { openConsumerProcess } from '@quorum/runtime/telemetry';
import { pino } from 'pino';
import { parseRelayEnv } from './env';
import { Relay } from './relay';

const env = parseRelayEnv();
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'relay', relay: env.RELAY_NAME } });

await run({ name: 'relay', logger }, async (life) => {
  const { sql, store, adapter } = await openConsumerProcess(life, 'relay', env, {
    applicationName: `quorum-relay:${env.RELAY_NAME}`,
    logger,
  });
  const bus = life.use(
    'connection',
    'nats',
    await openNatsBus({ servers: env.NATS_URL, name: `quorum-relay:${env.RELAY_NAME}`, namespace: env.NATS_NAMESPACE }),
  );
  const relay = life.use(
    'consumer',
    'relay',
    await Relay.create({
      store,
      bus,
      sql,
      logger,
      name: env.RELAY_NAME,
      batchSize: env.RELAY_BATCH_SIZE,
      leaderRetryMs: env.RELAY_LEADER_RETRY_MS,
      checkpointIntervalMs: env.RELAY_CHECKPOINT_INTERVAL_MS,
    }),
  );
  relay.start();
  logger.info({ eventStore: adapter }, 'relay running');
});
