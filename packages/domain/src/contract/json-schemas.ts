/**
 * JSON Schemas (draft 2020-12) of the public event contract, generated from the zod schemas:
 * one per public type for its data (what `dataschema` points at), and one for the envelope.
 * The gateway serves them under `/schemas/`; docs/events.md lists them.
 */
import { z } from 'zod';
import { PUBLIC_EVENTS, PUBLIC_EVENT_TYPES, type PublicEventType } from './public-events';

/** A JSON Schema document, as plain JSON. */
export type JsonSchemaDocument = Record<string, unknown>;

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** The envelope's path under the gateway. */
export const CLOUD_EVENT_SCHEMA_PATH = '/schemas/cloudevent.json';
/** The index of every schema's path. */
export const SCHEMA_INDEX_PATH = '/schemas/index.json';

function base(url: string): string {
  return url.replace(/\/+$/, '');
}

/** The JSON Schema of `type`'s public data, with `$id` under `baseUrl`. */
export function publicEventDataJsonSchema(type: PublicEventType, baseUrl: string): JsonSchemaDocument {
  const registration = PUBLIC_EVENTS[type];
  // `output`: the shape of data as it was validated and stored (trimmed, lower-cased), which is
  // what integrators receive.
  const generated = z.toJSONSchema(registration.schema, {
    target: 'draft-2020-12',
    io: 'output',
  }) as JsonSchemaDocument;
  return {
    ...generated,
    $schema: DIALECT,
    $id: `${base(baseUrl)}${registration.schemaPath}`,
    title: `${registration.cloudEventType} data`,
    description: registration.description,
  };
}

/** The JSON Schema of the envelope (CloudEvents 1.0 structured mode, with Quorum's attributes). */
export function cloudEventJsonSchema(baseUrl: string): JsonSchemaDocument {
  return {
    $schema: DIALECT,
    $id: `${base(baseUrl)}${CLOUD_EVENT_SCHEMA_PATH}`,
    title: 'Quorum event',
    description:
      "One event of an organization, as integrators receive it: CloudEvents 1.0 attributes, and `data` holding the event's public fields, valid against the schema `dataschema` names.",
    type: 'object',
    required: [
      'specversion',
      'id',
      'source',
      'type',
      'subject',
      'time',
      'datacontenttype',
      'dataschema',
      'sequence',
      'data',
    ],
    additionalProperties: false,
    properties: {
      specversion: { const: '1.0' },
      id: { type: 'string', format: 'uuid', description: 'The event id; the same on every delivery of this event.' },
      source: { type: 'string', pattern: '^/orgs/[0-9a-f-]{36}$', description: 'The organization: /orgs/<orgId>.' },
      type: {
        enum: PUBLIC_EVENT_TYPES.map((t) => PUBLIC_EVENTS[t].cloudEventType),
        description: 'quorum.<event type>.v<version>.',
      },
      subject: {
        type: 'string',
        minLength: 1,
        description: 'The stream: organization-<id>, session-<id>, usage-<id>, …',
      },
      time: { type: 'string', format: 'date-time' },
      datacontenttype: { const: 'application/json' },
      dataschema: { type: 'string', format: 'uri', description: "The data's JSON Schema." },
      sequence: {
        type: 'string',
        pattern: '^(0|[1-9][0-9]*)$',
        description: "Position in Quorum's log, a decimal string: the cursor to resume after.",
      },
      data: { type: 'object' },
    },
  };
}

/** Every schema the gateway serves, by path. */
export function publicSchemas(baseUrl: string): ReadonlyMap<string, JsonSchemaDocument> {
  const schemas = new Map<string, JsonSchemaDocument>();
  schemas.set(CLOUD_EVENT_SCHEMA_PATH, cloudEventJsonSchema(baseUrl));
  for (const type of PUBLIC_EVENT_TYPES)
    schemas.set(PUBLIC_EVENTS[type].schemaPath, publicEventDataJsonSchema(type, baseUrl));
  schemas.set(SCHEMA_INDEX_PATH, {
    envelope: `${base(baseUrl)}${CLOUD_EVENT_SCHEMA_PATH}`,
    events: PUBLIC_EVENT_TYPES.map((t) => ({
      type: t,
      cloudEventType: PUBLIC_EVENTS[t].cloudEventType,
      version: PUBLIC_EVENTS[t].version,
      description: PUBLIC_EVENTS[t].description,
      schema: `${base(baseUrl)}${PUBLIC_EVENTS[t].schemaPath}`,
    })),
  });
  return schemas;
}
