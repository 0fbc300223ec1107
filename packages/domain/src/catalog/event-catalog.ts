/**
 * Renders the generated part of `docs/events.md` from {@link EVENT_SCHEMAS}: a summary table
 * and one section per event type with its data fields, derived from the zod schema's JSON
 * Schema. Pure: `scripts/docs-events.ts` writes the result into the file, and a test in
 * `test/docs` fails when the file and this output differ.
 */
import { z } from 'zod';
import { PUBLIC_EVENTS, isPublicEventType } from '../contract/public-events';
import { EVENT_SCHEMAS, type DomainEventType, type EventCategory } from '../events';
import { streamIds } from '../streams';

/** The JSON Schema subset zod emits for event data. */
interface JsonSchema {
  type?: string;
  format?: string;
  enum?: readonly unknown[];
  anyOf?: readonly JsonSchema[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  properties?: Readonly<Record<string, JsonSchema>>;
  required?: readonly string[];
  items?: JsonSchema;
}

const FORMATS: Readonly<Record<string, string>> = {
  uuid: 'uuid',
  email: 'email address',
  'date-time': 'ISO 8601 date-time (UTC)',
};

function lengthNote(s: JsonSchema): string {
  const { minLength: min, maxLength: max } = s;
  if (min !== undefined && max !== undefined) return min === max ? `${min} chars` : `${min} to ${max} chars`;
  if (min !== undefined) return `at least ${min} chars`;
  if (max !== undefined) return `at most ${max} chars`;
  return '';
}

function numberNote(s: JsonSchema): string {
  const notes: string[] = [];
  const integer = s.type === 'integer';
  if (s.exclusiveMinimum !== undefined) {
    notes.push(integer ? `≥ ${Math.floor(s.exclusiveMinimum) + 1}` : `> ${s.exclusiveMinimum}`);
  } else if (s.minimum !== undefined) {
    notes.push(`≥ ${s.minimum}`);
  }
  // zod's int() bound (Number.MAX_SAFE_INTEGER) says nothing a reader needs.
  if (s.exclusiveMaximum !== undefined) notes.push(`< ${s.exclusiveMaximum}`);
  else if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) notes.push(`≤ ${s.maximum}`);
  return notes.join(', ');
}

/** A one-line, human description of a JSON Schema type. */
function describeType(s: JsonSchema): string {
  if (s.anyOf) {
    const parts = s.anyOf.map(describeType);
    const withoutNull = parts.filter((p) => p !== 'null');
    return withoutNull.length < parts.length ? `${withoutNull.join(' or ')} or null` : parts.join(' or ');
  }
  if (s.enum) return `one of ${s.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  switch (s.type) {
    case 'string': {
      const base = s.format !== undefined ? (FORMATS[s.format] ?? `string (${s.format})`) : 'string';
      const note = lengthNote(s);
      return note ? `${base}, ${note}` : base;
    }
    case 'integer':
    case 'number': {
      const note = numberNote(s);
      return note ? `${s.type} ${note}` : s.type;
    }
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return s.items ? `array of ${describeType(s.items)}` : 'array';
    case 'object':
      return 'object';
    default:
      return 'any';
  }
}

/** GitHub's heading anchor for a heading whose text is `text`. */
function anchorOf(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

/** The subject the relay publishes an event on (see `eventSubject` in `@quorum/bus`). */
function subjectOf(category: string, type: string): string {
  return `evt.<orgId>.${category}.${type.replaceAll('.', '_')}`;
}

function streamOf(category: EventCategory): string {
  switch (category) {
    case 'session':
      return streamIds.session('<sessionId>');
    case 'usage':
      return 'usage-<orgId>-<yyyymm>';
    default:
      return streamIds[category]('<orgId>');
  }
}

function renderFields(schema: JsonSchema): string[] {
  const properties = Object.entries(schema.properties ?? {});
  if (properties.length === 0) return ['No data fields: `data` is `{}`.'];
  const required = new Set(schema.required ?? []);
  return [
    '| field | type | required |',
    '|---|---|---|',
    ...properties.map(
      ([name, property]) => `| \`${name}\` | ${describeType(property)} | ${required.has(name) ? 'yes' : 'no'} |`,
    ),
  ];
}

/** The summary's "integrators" cell: the CloudEvents type, or "internal". */
function publicNote(type: DomainEventType): string {
  return isPublicEventType(type) ? `\`${PUBLIC_EVENTS[type].cloudEventType}\`` : 'internal';
}

/** The fields of `type` that stay inside Quorum, for its section. */
function omittedNote(type: DomainEventType & keyof typeof PUBLIC_EVENTS): string {
  const all = Object.keys((z.toJSONSchema(EVENT_SCHEMAS[type].schema) as JsonSchema).properties ?? {});
  const kept = new Set(Object.keys((z.toJSONSchema(PUBLIC_EVENTS[type].schema) as JsonSchema).properties ?? {}));
  const omitted = all.filter((field) => !kept.has(field));
  return omitted.length === 0 ? '' : `; without ${omitted.map((f) => `\`${f}\``).join(', ')}`;
}

/**
 * The generated part of the event catalog (Markdown), from {@link EVENT_SCHEMAS}: a summary
 * table, then per event type its stream, current version, NATS subject, description and
 * data fields.
 */
export function renderEventCatalog(): string {
  const types = Object.keys(EVENT_SCHEMAS) as DomainEventType[];
  const lines: string[] = [
    '<!-- Generated from EVENT_SCHEMAS (packages/domain/src/events.ts) by scripts/docs-events.ts; do not edit by hand. -->',
    '',
    '### Summary',
    '',
    '| type | stream | version | integrators | description |',
    '|---|---|---|---|---|',
  ];
  for (const type of types) {
    const entry = EVENT_SCHEMAS[type];
    lines.push(
      `| [\`${type}\`](#${anchorOf(type)}) | \`${streamOf(entry.category)}\` | ${entry.version} | ${publicNote(type)} | ${entry.description} |`,
    );
  }
  for (const type of types) {
    const entry = EVENT_SCHEMAS[type];
    const json = z.toJSONSchema(entry.schema) as JsonSchema;
    lines.push(
      '',
      `### ${type}`,
      '',
      entry.description,
      '',
      `- stream: \`${streamOf(entry.category)}\``,
      `- current version: ${entry.version}`,
      `- subject: \`${subjectOf(entry.category, type)}\``,
      isPublicEventType(type)
        ? `- public: CloudEvents type \`${PUBLIC_EVENTS[type].cloudEventType}\`, data schema \`${PUBLIC_EVENTS[type].schemaPath}\`${omittedNote(type)}`
        : '- internal: never sent to integrators',
      '',
      ...renderFields(json),
    );
  }
  return `${lines.join('\n')}\n`;
}
