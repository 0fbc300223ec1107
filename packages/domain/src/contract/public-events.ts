/**
 * The public event contract: what integrators receive, over `/v1/events`, its Server-Sent
 * Events stream and webhooks. One envelope with CloudEvents 1.0 attribute names; its data
 * holds the public fields of the event only, upcast to the newest version of its type.
 *
 * Which types are public, and which fields of each, is decided here and nowhere else. A type
 * not listed is internal (Stripe sync bookkeeping, reconciliation): it stays in Quorum's own
 * views and never reaches an integrator. A field left out of a public schema (the SFU node a
 * participant used, metering's lineage) is dropped from the data, not merely undocumented.
 */
import type { z } from 'zod';
import { EVENT_SCHEMAS, parseEventData, type DomainEventType } from '../events';

/** The CloudEvents `type` prefix: `quorum.member.joined.v1`. */
export const CLOUD_EVENT_TYPE_PREFIX = 'quorum.';

/** How a public type's data is made from its current data: the fields that leave Quorum. */
type PublicShape = { readonly omit: readonly string[] } | { readonly whole: true };

const WHOLE = { whole: true } as const;

/**
 * Every public event type, with the fields it drops. Adding an event type to the registry does
 * not publish it: it is listed here once its fields are fit for an integrator to rely on.
 */
const PUBLIC_SHAPES = {
  'organization.created': WHOLE,
  'organization.plan_changed': WHOLE,
  'organization.activated': WHOLE,
  'organization.marked_past_due': WHOLE,
  'organization.suspended': WHOLE,
  'organization.reactivated': WHOLE,
  'organization.closed': WHOLE,
  'member.invited': WHOLE,
  'member.joined': WHOLE,
  'member.role_changed': WHOLE,
  'member.removed': WHOLE,
  'api_key.created': WHOLE,
  'api_key.revoked': WHOLE,
  'seats.purchased': WHOLE,
  'seats.released': WHOLE,
  'seat.assigned': WHOLE,
  'seat.unassigned': WHOLE,
  'session.scheduled': WHOLE,
  'session.started': WHOLE,
  // The SFU node run is Quorum's infrastructure, and changes meaning when nodes are replaced.
  'participant.joined': { omit: ['node'] },
  'participant.reconnected': { omit: ['node'] },
  'participant.left': WHOLE,
  'session.locked': WHOLE,
  'session.unlocked': WHOLE,
  'participant.muted': WHOLE,
  'participant.removed': WHOLE,
  'session.ended': WHOLE,
  // The stint and the source events are metering's lineage, ids of events an integrator may
  // never see; the interval, meter and seconds are the usage.
  'usage.recorded': { omit: ['stint', 'sources'] },
  'usage.threshold_crossed': WHOLE,
  'billing.invoice_finalized': WHOLE,
  'billing.invoice_paid': WHOLE,
  'billing.invoice_payment_failed': WHOLE,
  'endpoint.created': WHOLE,
  'endpoint.updated': WHOLE,
  'endpoint.paused': WHOLE,
  'endpoint.resumed': WHOLE,
  'endpoint.secret_rotated': WHOLE,
  'endpoint.deleted': WHOLE,
  'endpoint.disabled': WHOLE,
} as const satisfies Partial<Record<DomainEventType, PublicShape>>;

/** An event type integrators receive. */
export type PublicEventType = keyof typeof PUBLIC_SHAPES;

/** Every public event type, in registry order. */
export const PUBLIC_EVENT_TYPES: readonly PublicEventType[] = (Object.keys(EVENT_SCHEMAS) as DomainEventType[]).filter(
  (type): type is PublicEventType => Object.hasOwn(PUBLIC_SHAPES, type),
);

/** Whether integrators receive events of `type`. */
export function isPublicEventType(type: string): type is PublicEventType {
  return Object.hasOwn(PUBLIC_SHAPES, type);
}

/** An object schema of the registry (every event data schema is one). */
type ObjectSchema = z.ZodObject<z.ZodRawShape>;

function publicSchemaOf(type: PublicEventType): ObjectSchema {
  const schema = EVENT_SCHEMAS[type].schema as unknown as ObjectSchema;
  const shape: PublicShape = PUBLIC_SHAPES[type];
  if ('whole' in shape) return schema;
  const mask = Object.fromEntries(shape.omit.map((key) => [key, true])) as Record<string, true>;
  return schema.omit(mask);
}

/** A public type's entry: its current version and the schema of its public data. */
export interface PublicEventRegistration {
  readonly type: PublicEventType;
  readonly version: number;
  readonly description: string;
  /** The public data: the current schema without the fields that stay inside. */
  readonly schema: ObjectSchema;
  /** The CloudEvents `type`: `quorum.<type>.v<version>`. */
  readonly cloudEventType: string;
  /** Path of its data's JSON Schema under the gateway: `/schemas/events/<type>.v<version>.json`. */
  readonly schemaPath: string;
}

/** Every public type's registration. */
export const PUBLIC_EVENTS: Readonly<Record<PublicEventType, PublicEventRegistration>> = Object.fromEntries(
  PUBLIC_EVENT_TYPES.map((type) => {
    const { version, description } = EVENT_SCHEMAS[type];
    return [
      type,
      {
        type,
        version,
        description,
        schema: publicSchemaOf(type),
        cloudEventType: `${CLOUD_EVENT_TYPE_PREFIX}${type}.v${version}`,
        schemaPath: `/schemas/events/${type}.v${version}.json`,
      },
    ];
  }),
) as Record<PublicEventType, PublicEventRegistration>;

/** The public type a CloudEvents `type` names (`quorum.member.joined.v1` → `member.joined`), if any. */
export function publicTypeOfCloudEventType(cloudEventType: string): PublicEventType | undefined {
  const match = /^quorum\.(.+)\.v(\d+)$/.exec(cloudEventType);
  if (!match?.[1] || !isPublicEventType(match[1])) return undefined;
  return PUBLIC_EVENTS[match[1]].cloudEventType === cloudEventType ? match[1] : undefined;
}

/**
 * The envelope integrators receive, with CloudEvents 1.0 attribute names (structured mode,
 * JSON). `sequence` (the CloudEvents sequence extension) is the event's position in Quorum's
 * log as a decimal string: the cursor of `/v1/events` and the `id:` of the stream.
 */
export interface PublicEvent {
  readonly specversion: '1.0';
  /** The event id (a uuid). */
  readonly id: string;
  /** The organization: `/orgs/<orgId>`. */
  readonly source: string;
  /** Versioned: `quorum.member.joined.v1`. */
  readonly type: string;
  /** The stream the event belongs to: `organization-<orgId>`, `session-<sessionId>`, … */
  readonly subject: string;
  /** When it happened (ISO 8601, UTC). */
  readonly time: string;
  readonly datacontenttype: 'application/json';
  /** Absolute URL of the data's JSON Schema. */
  readonly dataschema: string;
  /** Position in Quorum's log, a decimal string; increases along the log. */
  readonly sequence: string;
  readonly data: Record<string, unknown>;
}

/** An event as read from Quorum's log. */
export interface LoggedEvent {
  readonly id: string;
  readonly type: string;
  /** The version the data was written at. */
  readonly version: number;
  readonly streamId: string;
  readonly orgId: string;
  readonly position: bigint | string;
  readonly occurredAt: Date | string;
  readonly data: unknown;
}

/**
 * The public envelope of `event`, or undefined when its type is not public. `baseUrl`: the
 * gateway's public origin, for `dataschema` (`https://quorum.example.com`).
 */
export function toPublicEvent(event: LoggedEvent, baseUrl: string): PublicEvent | undefined {
  if (!isPublicEventType(event.type)) return undefined;
  const registration = PUBLIC_EVENTS[event.type];
  const current = parseEventData(event.type, event.version, event.data);
  const data = registration.schema.parse(current) as Record<string, unknown>;
  return {
    specversion: '1.0',
    id: event.id,
    source: `/orgs/${event.orgId}`,
    type: registration.cloudEventType,
    subject: event.streamId,
    time: new Date(event.occurredAt).toISOString(),
    datacontenttype: 'application/json',
    dataschema: `${baseUrl.replace(/\/+$/, '')}${registration.schemaPath}`,
    sequence: String(event.position),
    data,
  };
}
