/**
 * The worker thread side of {@link startThreadPipeline}: opens its own PostgreSQL pool,
 * event store and NATS connection, runs the relay and the projector, and talks to the main
 * thread by messages: `advanced` (the projection's new position), `readiness` answers,
 * `closed`, and `fatal` when it cannot start.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NatsBus } from '@quorum/bus/nats';
import { createPgSqlDatabase } from '@quorum/db';
import type { EventStore } from '@quorum/eventstore';
import { EsdbEventStore } from '@quorum/eventstore/esdb';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { startTelemetry } from '@quorum/telemetry';
import { pino } from 'pino';
import type { QuorumEnv } from '../env';
import { startInlinePipeline } from './pipeline';
import type { MainMessage, WorkerMessage } from './pipeline-messages';

const port = parentPort!;
const env = workerData as QuorumEnv;
const post = (message: WorkerMessage) => port.postMessage(message);
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'quorum', thread: 'pipeline' } });

try {
  const telemetry = env.OTEL_EXPORTER_OTLP_ENDPOINT
    ? startTelemetry({
        serviceName: `${env.OTEL_SERVICE_NAME ?? 'quorum'}-pipeline`,
        otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      })
    : undefined;
  const sql = createPgSqlDatabase({
    connectionString: env.DATABASE_URL!,
    max: 10,
    min: 10,
    applicationName: 'quorum-pipeline',
    onConnectionError: (err) => logger.warn({ err }, 'postgres connection failed'),
  });
  await sql.warm(10);
  const store: EventStore = env.ESDB_URL
    ? await EsdbEventStore.create({ connectionString: env.ESDB_URL })
    : await PostgresEventStore.create(sql);
  const bus = await NatsBus.create({
    servers: env.NATS_URL!,
    name: 'quorum-pipeline',
    ...(env.NATS_NAMESPACE ? { namespace: env.NATS_NAMESPACE } : {}),
  });
  await bus.ensureStream();
  const pipeline = await startInlinePipeline({ store, bus, sql, logger });
  pipeline.onAdvance(() => post({ type: 'advanced', position: pipeline.projector.position.toString() }));
  port.on('message', (message: MainMessage) => {
    switch (message.type) {
      case 'appended':
        // The gateway appended on the main thread: the relay reads now, not at its next poll.
        if (store instanceof PostgresEventStore) store.wake();
        return;
      case 'readiness':
        pipeline.readiness().then(
          (checks) => post({ type: 'readiness', id: message.id, checks }),
          (err: Error) =>
            post({ type: 'readiness', id: message.id, checks: { pipeline: { ok: false, detail: err.message } } }),
        );
        return;
      case 'close':
        (async () => {
          await pipeline.close();
          await bus.close();
          await store.close();
          await sql.close();
          await telemetry?.shutdown();
        })().then(
          () => post({ type: 'closed' }),
          (err: Error) => {
            logger.error({ err }, 'pipeline shutdown failed');
            post({ type: 'closed' });
          },
        );
        return;
    }
  });
  post({ type: 'ready', position: pipeline.projector.position.toString() });
} catch (err) {
  post({ type: 'fatal', message: (err as Error).message });
}
