/**
 * OpenTelemetry for Quorum. Only this package starts an SDK; everything else uses
 * `@opentelemetry/api`. A command's trace context rides in event metadata (`traceparent`),
 * so the relay and each consumer continue the trace of the call that appended the event.
 */
import {
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

export { SpanKind, SpanStatusCode, context, trace };
export type { Context, Span, Tracer, ReadableSpan };

export interface TelemetryOptions {
  serviceName: string;
  /** OTLP/HTTP endpoint; without it spans are created (for context) but not exported. */
  otlpEndpoint?: string;
}

export interface Telemetry {
  /** Flushes and stops; idempotent. */
  shutdown(): Promise<void>;
}

/** Starts the Node SDK with W3C trace context propagation. */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    textMapPropagator: new W3CTraceContextPropagator(),
    // Without an endpoint, spans still carry context through events but go nowhere (the SDK
    // would otherwise default to an OTLP exporter on localhost).
    ...(options.otlpEndpoint
      ? { traceExporter: new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces` }) }
      : { spanProcessors: [] }),
    instrumentations: [],
  });
  sdk.start();
  let stopped = false;
  return {
    async shutdown() {
      if (stopped) return;
      stopped = true;
      await sdk.shutdown();
    },
  };
}

export interface InMemoryTelemetry extends Telemetry {
  exporter: InMemorySpanExporter;
  spans(): ReadableSpan[];
}

/** Registers a tracer provider that keeps finished spans in memory (tests). */
export function startInMemoryTelemetry(serviceName = 'quorum-test'): InMemoryTelemetry {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  let stopped = false;
  return {
    exporter,
    spans: () => exporter.getFinishedSpans(),
    async shutdown() {
      if (stopped) return;
      stopped = true;
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** The `traceparent` of the active span, for event metadata; undefined outside a trace. */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** A context whose parent is the span described by `traceparent` (from event metadata). */
export function contextFromTraceparent(traceparent: string | undefined, base: Context = context.active()): Context {
  if (!traceparent) return base;
  return propagation.extract(base, { traceparent });
}

/**
 * Runs `fn` in a new active span; records an exception and error status when it throws.
 */
export async function withSpan<T>(
  tracer: Tracer,
  name: string,
  options: { kind?: SpanKind; attributes?: Record<string, string | number | boolean>; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer.startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}
