/**
 * The OpenTelemetry SDK of a process, started with its lifecycle. An entry of its own
 * (`@quorum/runtime/telemetry`), so a process that does not trace never loads the SDK.
 */
import { startTelemetry, type Telemetry } from '@quorum/telemetry';
import type { Lifecycle } from './lifecycle';

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
