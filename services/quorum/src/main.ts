import { run } from '@quorum/runtime';
import { useTelemetry } from '@quorum/runtime/telemetry';
import { pino } from 'pino';
import { startQuorum } from './app';
import { loadEnv } from './env';

const env = loadEnv();
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'quorum' } });

await run({ name: 'Quorum', logger }, async (life) => {
  useTelemetry(life, { serviceName: env.OTEL_SERVICE_NAME ?? 'quorum', otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT });
  const app = await startQuorum(env, logger);
  // The app closes its own parts in the kit's order (servers, consumers, connections, store).
  life.onClose('server', 'Quorum', async () => {
    if (!(await app.close())) throw new Error('a part of Quorum failed to close (logged above)');
  });
});
