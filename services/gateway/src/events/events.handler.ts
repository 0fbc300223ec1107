import type { WireEvent } from '@quorum/eventstore';
import { currentVersionOf, isDomainEventType, parseEventData } from '@quorum/domain';
import { authorizeQuery, awaitPosition } from '../access';
import type { Context, Principal } from '../trpc';
import type { ListEventsInput } from './events.schema';

export async function listEvents(ctx: Context & { principal: Principal }, input: ListEventsInput) {
  await awaitPosition(ctx, input.minPosition);
  await authorizeQuery(ctx, input.orgId, 'events.list');
  const rows = await ctx.deps.read.events(input.orgId, {
    ...(input.after ? { after: BigInt(input.after) } : {}),
    ...(input.before ? { before: BigInt(input.before) } : {}),
    order: input.order,
    limit: input.limit,
    ...(input.types ? { types: input.types } : {}),
  });
  const events: WireEvent[] = rows.map((r) => {
    const m = r.metadata as {
      version?: number;
      actor: WireEvent['actor'];
      correlationId: string;
      causationId: string | null;
      traceparent?: string | null;
    };
    const storedVersion = m.version ?? 1;
    // Known types are upcast, so readers only ever see each type's current shape.
    const type = r.type;
    const current = isDomainEventType(type)
      ? { version: currentVersionOf(type), data: parseEventData(type, storedVersion, r.data) }
      : undefined;
    return {
      id: r.event_id,
      type: r.type,
      version: current?.version ?? storedVersion,
      streamId: r.stream_id,
      revision: String(r.revision),
      position: String(r.position),
      occurredAt: new Date(r.occurred_at).toISOString(),
      orgId: r.org_id,
      actor: m.actor,
      correlationId: m.correlationId,
      causationId: m.causationId,
      traceparent: m.traceparent ?? null,
      data: current ? current.data : r.data,
    };
  });
  const last = events.at(-1);
  return { events, next: events.length === input.limit && last ? last.position : null };
}
