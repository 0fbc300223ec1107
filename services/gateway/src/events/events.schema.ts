/** The input of `events.list`; `/v1` pages public events through it. */
import { IdSchema } from '@quorum/domain';
import { z } from 'zod';
import { MinPositionSchema, positionSchema } from '../trpc';

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
