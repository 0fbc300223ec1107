import type { WireEvent } from '@quorum/eventstore';
import { IdSchema, currentVersionOf, isDomainEventType, parseEventData } from '@quorum/domain';
import { z } from 'zod';
import { authorizeQuery, awaitPosition } from '../access';
import { MinPositionSchema, positionSchema, type Context, type Principal } from '../trpc';

const Position = positionSchema();

/** The most event types one `events.list` call may filter on. */
export const MAX_LISTED_EVENT_TYPES = 50;

export const ListEventsInputSchema = z.object({
  orgId: IdSchema,
  /** Events strictly after this position (ascending pages). */
  after: Position.optional(),
  /** Events strictly before this position (descending pages, newest first). */
  before: Position.optional(),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: z.number().int().min(1).max(500).default(100),
  types: z
    .array(z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'must be an event type, such as member.joined'))
    .max(MAX_LISTED_EVENT_TYPES)
    .optional(),
  minPosition: MinPositionSchema,
});
export type ListEventsInput = z.infer<typeof ListEventsInputSchema>;

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
