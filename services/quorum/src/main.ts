import { startTelemetry } from '@quorum/telemetry';
import { pino } from 'pino';
import { startQuorum } from './app';
import { loadEnv } from './env';

const env = loadEnv();
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'quorum' } });
const telemetry = startTelemetry({
  serviceName: env.OTEL_SERVICE_NAME ?? 'quorum',
  ...(env.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
});

const app = await startQuorum(env, logger).catch(async (err: unknown) => {
  logger.fatal({ err }, 'Quorum failed to start');
  await telemetry.shutdown();
  process.exit(1);
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    app
      .close()
      .then(() => telemetry.shutdown())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  });
}
