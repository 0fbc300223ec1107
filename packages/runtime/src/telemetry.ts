/**
 * The OpenTelemetry SDK of a process, started with its lifecycle. An entry of its own
 * (`@quorum/runtime/telemetry`), so a process that does not trace never loads the SDK.
 */
import { startTelemetry, type Telemetry } from '@quorum/telemetry';
import type { Logger } from 'pino';
import type { Lifecycle } from './lifecycle';
import { openPostgresStore, type OpenedStore } from './store';

export interface ProcessTelemetryOptions {
  serviceName: string;
  /** OTLP/HTTP endpoint; absent or empty: spans carry context through events but are not exported. */
  otlpEndpoint?: string | undefined;
}

/** Starts the OpenTelemetry SDK of a process and registers its flush as the last shutdown step. */
export function useTelemetry(life: Lifecycle, options: ProcessTelemetryOptions): Telemetry {
  const telemetry = startTelemetry({
    serviceName: options.serviceName,
    ...(options.otlpEndpoint ? { otlpEndpoint: options.otlpEndpoint } : {}),
  });
  life.onClose('telemetry', 'telemetry', () => telemetry.shutdown());
  return telemetry;
}

/** What a standalone consumer of the bus reads from its environment to start. */
export interface ConsumerProcessEnv {
  DATABASE_URL: string;
  ESDB_URL?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
}

/**
 * The start of a standalone process that follows the bus and writes to the event store and
 * PostgreSQL (the relay, metering): its telemetry (`quorum-<name>` unless `OTEL_SERVICE_NAME`),
 * then the database and event store, migrated, closed in the lifecycle's order.
 */
export async function openConsumerProcess(
  life: Lifecycle,
  name: string,
  env: ConsumerProcessEnv,
  options: { applicationName: string; logger: Logger },
): Promise<OpenedStore> {
  useTelemetry(life, {
    serviceName: env.OTEL_SERVICE_NAME ?? `quorum-${name}`,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  return life.use(
    'store',
    'event store and database',
    await openPostgresStore({
      connectionString: env.DATABASE_URL,
      applicationName: options.applicationName,
      esdbUrl: env.ESDB_URL,
      migratePublicSchema: true,
      logger: options.logger,
    }),
  );
}
