/**
 * The worker thread side of {@link startThreadPipeline}: opens its own PostgreSQL pool,
 * event store and NATS connection, runs the relay and the projector, and talks to the main
 * thread by messages: `advanced` (the projection's new position), `readiness` answers,
 * `closed`, and `fatal` when it cannot start.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { meteringOptions } from '@quorum/metering/env';
import { Lifecycle, openNatsBus, openPostgresStore } from '@quorum/runtime';
import { useTelemetry } from '@quorum/runtime/telemetry';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { quorumWebhooksOptions, type QuorumEnv } from '../env';
import { startInlinePipeline } from './pipeline';
import type { MainMessage, WorkerMessage } from './pipeline-messages';

const port = parentPort!;
const env = workerData as QuorumEnv;
const post = (message: WorkerMessage) => port.postMessage(message);
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'quorum', thread: 'pipeline' } });
// The main thread owns the signals; this thread closes when it is told to (`close`).
const life = new Lifecycle({ logger });

try {
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    useTelemetry(life, {
      serviceName: `${env.OTEL_SERVICE_NAME ?? 'quorum'}-pipeline`,
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    });
  }
  const { sql, store } = life.use(
    'store',
    'event store and database',
    await openPostgresStore({
      connectionString: env.DATABASE_URL!,
      poolSize: 10,
      applicationName: 'quorum-pipeline',
      esdbUrl: env.ESDB_URL,
      logger,
    }),
  );
  const bus = life.use(
    'connection',
    'bus',
    await openNatsBus({ servers: env.NATS_URL!, name: 'quorum-pipeline', namespace: env.NATS_NAMESPACE }),
  );
  let redis: Redis | undefined;
  if (env.REDIS_URL && env.STRIPE_SECRET_KEY) {
    // The billing sync's share of the Stripe call rate, with every other billing instance.
    const client = new Redis(env.REDIS_URL);
    redis = client;
    life.onClose('connection', 'redis', () => client.quit());
    client.on('error', (err: Error) => logger.warn({ err }, 'redis connection error; reconnecting'));
  }
  const pipeline = life.use(
    'consumer',
    'relay and projector',
    await startInlinePipeline({
      store,
      bus,
      sql,
      logger,
      metering: meteringOptions(env),
      billing: env,
      redis,
      webhooks: quorumWebhooksOptions(env),
    }),
  );
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
        void life.close().then((clean) => {
          if (!clean) logger.error('pipeline shutdown failed; see the steps above');
          post({ type: 'closed' });
        });
        return;
    }
  });
  post({ type: 'ready', position: pipeline.projector.position.toString() });
} catch (err) {
  await life.close();
  post({ type: 'fatal', message: (err as Error).message });
}
