/**
 * Applies delivered events to one read-model version in one transaction with its checkpoint,
 * skipping positions at or below it, under one CONSUMER span per event.
 */
import type { DeliveredMessage } from '@quorum/bus';
import { readModelSchema, type Database } from '@quorum/db';
import { parseWireEvent, type WireEvent } from '@quorum/eventstore';
import { SpanKind, SpanStatusCode, contextFromTraceparent, type Tracer } from '@quorum/telemetry';
import type { Kysely } from 'kysely';
import { lockCheckpoint, writeCheckpoint } from './bookkeeping.repository';
import { applyEvents, applyEventsAdvancing } from './projections/core.projection';

export interface ApplyBatchContext {
  db: Kysely<Database>;
  tracer: Tracer;
  projection: string;
}

export interface BatchOutcome {
  /** The events written, in order; empty when every one was at or below the checkpoint. */
  applied: WireEvent[];
  checkpoint: bigint;
}

/**
 * Applies `messages` in order in one transaction with the checkpoint of `version`. `known` is
 * that checkpoint as this process last wrote it, if it did.
 */
export async function applyBatch(
  ctx: ApplyBatchContext,
  messages: readonly DeliveredMessage[],
  version: number,
  known: bigint | undefined,
): Promise<BatchOutcome> {
  const events = messages.map((m) => ({ message: m, event: envelopeOf(m) }));
  // One CONSUMER span per event, each continuing the trace of the command that appended it.
  const spans = events.map(({ message, event }) =>
    ctx.tracer.startSpan(
      `project ${event.type}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.message.id': event.id,
          'messaging.destination.name': message.subject,
          'quorum.event.type': event.type,
          'quorum.event.position': event.position,
          'quorum.projection': ctx.projection,
          'quorum.projection.version': version,
          'quorum.delivery_count': message.deliveryCount,
          'quorum.batch_size': messages.length,
        },
      },
      contextFromTraceparent(event.traceparent ?? undefined),
    ),
  );
  let outcome: BatchOutcome;
  try {
    outcome = await ctx.db.transaction().execute(async (trx) => {
      // Usually this process wrote the checkpoint and its copy is current: the statement that
      // writes the event log checks that and moves it, holding the row lock for the rest of
      // the transaction, and writes nothing if it had moved.
      if (known !== undefined) {
        const ahead = events.filter(({ message }) => message.position > known).map(({ event }) => event);
        if (ahead.length === 0) return { applied: [], checkpoint: known };
        const next = BigInt(ahead.at(-1)!.position);
        const outcomes = await applyEventsAdvancing(trx, readModelSchema(version), ahead, {
          projection: ctx.projection,
          version,
          from: known,
          to: next,
        });
        if (outcomes) {
          outcomes.forEach((o, i) =>
            spans[events.findIndex((e) => e.event === ahead[i])]?.setAttribute('quorum.projection.outcome', o),
          );
          return { applied: ahead, checkpoint: next };
        }
      }
      // Moved elsewhere (another instance, a rebuild) or not this process's version.
      const start = await lockCheckpoint(trx, ctx.projection, version);
      const pending = events.filter(({ message }) => message.position > start).map(({ event }) => event);
      if (pending.length === 0) return { applied: [], checkpoint: start };
      const outcomes = await applyEvents(trx, readModelSchema(version), pending);
      outcomes.forEach((o, i) =>
        spans[events.findIndex((e) => e.event === pending[i])]?.setAttribute('quorum.projection.outcome', o),
      );
      const checkpoint = BigInt(pending.at(-1)!.position);
      await writeCheckpoint(trx, ctx.projection, version, checkpoint);
      return { applied: pending, checkpoint };
    });
  } catch (err) {
    for (const span of spans) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      span.end();
    }
    throw err;
  }
  for (const span of spans) span.end();
  return outcome;
}

/** The envelope of a bus message; its position must match the bus header. */
function envelopeOf(message: DeliveredMessage): WireEvent {
  const event = parseWireEvent(message.payload);
  if (BigInt(event.position) !== message.position) {
    throw new Error(`envelope position ${event.position} differs from the bus position ${message.position}`);
  }
  return event;
}
