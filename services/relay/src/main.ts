/**
 * Composition root of the standalone relay: Postgres (checkpoint, leader lock and, unless
 * `ESDB_URL` is set, the event store) → relay → NATS JetStream.
 */
import { NatsBus } from '@quorum/bus/nats';
import { createPgSqlDatabase, migratePublicSchema } from '@quorum/db';
import type { EventStore } from '@quorum/eventstore';
import { EsdbEventStore } from '@quorum/eventstore/esdb';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { startTelemetry } from '@quorum/telemetry';
import { pino } from 'pino';
import { parseRelayEnv } from './env';
import { Relay } from './relay';

const env = parseRelayEnv();
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'relay', relay: env.RELAY_NAME } });
const telemetry = startTelemetry({
  serviceName: env.OTEL_SERVICE_NAME ?? 'quorum-relay',
  ...(env.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
});

// Closed in reverse order of opening: relay, then bus, then store, then Postgres.
const closers: { name: string; close: () => Promise<void> }[] = [];

async function closeAll(): Promise<boolean> {
  let clean = true;
  for (const { name, close } of [...closers].reverse()) {
    try {
      await close();
    } catch (err) {
      clean = false;
      logger.error({ err }, `closing ${name} failed`);
    }
  }
  try {
    await telemetry.shutdown();
  } catch (err) {
    // Unflushed spans are lost, but the relay's own state is safe: not a failed shutdown.
    logger.warn({ err }, 'flushing telemetry failed');
  }
  return clean;
}

try {
  const sql = createPgSqlDatabase({
    connectionString: env.DATABASE_URL,
    applicationName: `quorum-relay:${env.RELAY_NAME}`,
    onConnectionError: (err) => logger.warn({ err }, 'postgres connection failed; its next query fails'),
  });
  closers.push({ name: 'postgres', close: () => sql.close() });
  await migratePublicSchema(sql);

  let store: EventStore;
  if (env.ESDB_URL) {
    store = await EsdbEventStore.create({ connectionString: env.ESDB_URL });
  } else {
    store = await PostgresEventStore.create(sql);
  }
  closers.push({ name: 'event store', close: () => store.close() });

  const bus = await NatsBus.create({
    servers: env.NATS_URL,
    name: `quorum-relay:${env.RELAY_NAME}`,
    ...(env.NATS_NAMESPACE ? { namespace: env.NATS_NAMESPACE } : {}),
  });
  closers.push({ name: 'bus', close: () => bus.close() });
  await bus.ensureStream();

  const relay = await Relay.create({
    store,
    bus,
    sql,
    logger,
    name: env.RELAY_NAME,
    batchSize: env.RELAY_BATCH_SIZE,
    leaderRetryMs: env.RELAY_LEADER_RETRY_MS,
    checkpointIntervalMs: env.RELAY_CHECKPOINT_INTERVAL_MS,
  });
  closers.push({ name: 'relay', close: () => relay.close() });
  relay.start();
  logger.info({ eventStore: env.ESDB_URL ? 'esdb' : 'postgres' }, 'relay running');
} catch (err) {
  logger.fatal({ err }, 'relay failed to start');
  await closeAll();
  process.exit(1);
}

let shuttingDown = false;
function shutdown(signal: NodeJS.Signals): void {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'relay shutting down');
  void closeAll().then((clean) => process.exit(clean ? 0 : 1));
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
