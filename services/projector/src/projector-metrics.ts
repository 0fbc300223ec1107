/**
 * The projector's metrics: events applied (a counter), and lag and dead letters (gauges read
 * from the projector's status when the exporter collects).
 */
import { metrics, type Attributes, type BatchObservableCallback } from '@opentelemetry/api';
import { isDomainEventType } from '@quorum/domain';
import type { WireEvent } from '@quorum/eventstore';
import type { Logger } from 'pino';

export interface ProjectorMetrics {
  applied(events: readonly WireEvent[]): void;
  /** Stops observing the gauges. */
  close(): void;
}

export interface ObservedStatus {
  version: number;
  deadLetters: number;
  lagPositions: bigint;
}

/** `status` is read at each collection unless `closing()`; a failed read is logged and skipped. */
export function createProjectorMetrics(
  projection: string,
  status: () => Promise<ObservedStatus>,
  closing: () => boolean,
  logger: Logger,
): ProjectorMetrics {
  const meter = metrics.getMeter('quorum.projector');
  const applied = meter.createCounter('quorum.projection.applied', {
    description: 'Events applied to a read model',
    unit: '{event}',
  });
  const lag = meter.createObservableGauge('quorum.projection.lag', {
    description: 'Event store head position minus the projection checkpoint',
    unit: '{position}',
  });
  const deadLetters = meter.createObservableGauge('quorum.projection.dead_letters', {
    description: 'Unresolved dead letters of the active projection version',
    unit: '{event}',
  });
  const observables = [lag, deadLetters];
  const observe: BatchObservableCallback = async (observer) => {
    if (closing()) return;
    try {
      const s = await status();
      const attributes: Attributes = { projection, version: s.version };
      observer.observe(lag, Number(s.lagPositions), attributes);
      observer.observe(deadLetters, s.deadLetters, attributes);
    } catch (err) {
      logger.warn({ err }, 'projection metrics not observed: status could not be read');
    }
  };
  meter.addBatchObservableCallback(observe, observables);
  return {
    applied(events) {
      for (const e of events) applied.add(1, { projection, type: isDomainEventType(e.type) ? e.type : 'unknown' });
    },
    close() {
      meter.removeBatchObservableCallback(observe, observables);
    },
  };
}
