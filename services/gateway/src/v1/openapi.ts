/**
 * `GET /v1/openapi.json`: the OpenAPI 3.1 document of `/v1`, generated from the route table
 * and the zod schemas (`z.toJSONSchema`), with the webhook payloads (`webhooks:`) referring to
 * the public event contract's own schemas (the envelope and each type's data). Public: it
 * describes the API, not any organization's data.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  PUBLIC_EVENTS,
  PUBLIC_EVENT_TYPES,
  cloudEventJsonSchema,
  publicEventDataJsonSchema,
  type JsonSchemaDocument,
} from '@quorum/domain';
import { z } from 'zod';
import type { GatewayDeps } from '../deps';
import { publicBaseUrl } from '../public/base-url';
import { V1_ROUTES, type V1Route } from './v1.routes';
import { EventEnvelopeSchema, V1ErrorSchema } from './v1.schema';

type Json = Record<string, unknown>;

const EVENT_REF = '#/components/schemas/Event';
const ERROR_REF = '#/components/schemas/Error';

/** The JSON Schema of `schema` as a document part; envelopes refer to the contract's Event. */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const generated = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema !== EventEnvelopeSchema) return;
      for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Json)[key];
      (ctx.jsonSchema as Json).$ref = EVENT_REF;
    },
  }) as Json;
  delete generated.$schema;
  return generated;
}

/** The contract's schemas as components: `$schema` goes (the document's dialect is the same). */
function component(schema: JsonSchemaDocument): Json {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

const dataComponentOf = (type: (typeof PUBLIC_EVENT_TYPES)[number]) => `${type}.v${PUBLIC_EVENTS[type].version}`;

function parametersOf(route: V1Route): Json[] {
  const parameters: Json[] = [];
  const inPath = jsonSchemaOf(route.params, 'input') as { properties?: Record<string, Json> };
  for (const [name, schema] of Object.entries(inPath.properties ?? {})) {
    const { description, ...rest } = schema;
    parameters.push({
      name,
      in: 'path',
      required: true,
      ...(description ? { description } : {}),
      schema: rest,
      example: route.example.params[name],
    });
  }
  const inQuery = jsonSchemaOf(route.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
  for (const [name, schema] of Object.entries(inQuery.properties ?? {})) {
    const { description, ...rest } = schema;
    const example = route.example.query?.[name];
    parameters.push({
      name,
      in: 'query',
      required: inQuery.required?.includes(name) ?? false,
      ...(description ? { description } : {}),
      schema: rest,
      // Query strings are text; the example is shown as the parameter's own type.
      ...(example !== undefined ? { example: rest.type === 'integer' ? Number(example) : example } : {}),
    });
  }
  if (route.idempotent)
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'Makes a retry safe: a retry with the same key changes nothing more and answers the same result.',
      schema: { type: 'string', minLength: 1, maxLength: 200 },
    });
  if (route.response.kind === 'event-stream')
    parameters.push({
      name: 'Last-Event-ID',
      in: 'header',
      required: false,
      description: 'The `id` of the last event received; the stream resumes after it (unless `after` is given).',
      schema: { type: 'string', pattern: '^\\d{1,19}$' },
    });
  return parameters;
}

const errorResponse = (description: string, headers?: Json): Json => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: { $ref: ERROR_REF } } },
});

const RATE_HEADERS: Json = {
  'RateLimit-Limit': { description: 'Calls allowed per minute with this credential.', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Calls left in the current window.', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the window has room again.', schema: { type: 'integer' } },
};

function operationOf(route: V1Route): Json {
  const response = route.response;
  const success: Json =
    response.kind === 'json'
      ? {
          description: response.description,
          headers: RATE_HEADERS,
          content: { 'application/json': { schema: jsonSchemaOf(response.schema, 'output') } },
        }
      : {
          description: response.description,
          headers: RATE_HEADERS,
          content: {
            'text/event-stream': {
              schema: { type: 'string' },
              example:
                'retry: 2000\n\nid: 42\nevent: quorum.member.joined.v1\ndata: {"specversion":"1.0","id":"…","sequence":"42",…}\n\n: heartbeat\n\n',
            },
          },
        };
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: `${route.description}\n\nRuns the tRPC procedure \`${route.procedure}\`.`,
    tags: [route.tag],
    parameters: parametersOf(route),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: jsonSchemaOf(route.body, 'input'), example: route.example.body },
            },
          },
        }
      : {}),
    responses: {
      [String(response.kind === 'json' ? response.status : 200)]: success,
      '400': errorResponse('Bad input: `reason` says what, `fieldErrors` which fields.'),
      '401': errorResponse('No valid credential.'),
      '403': errorResponse("The credential's role may not do this."),
      '404': errorResponse('No such organization (or not yours).'),
      '429': errorResponse('Too many calls with this credential.', {
        'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } },
        ...RATE_HEADERS,
      }),
    },
  };
}

function webhooksOf(): Json {
  const webhooks: Json = {};
  const header = (name: string, description: string) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema: { type: 'string' },
  });
  for (const type of PUBLIC_EVENT_TYPES) {
    const registration = PUBLIC_EVENTS[type];
    webhooks[registration.cloudEventType] = {
      post: {
        operationId: `webhook.${registration.cloudEventType}`,
        summary: `${type}: ${registration.description}`,
        description:
          'Delivered to your endpoint per Standard Webhooks: `webhook-id` stays the same across retries, `webhook-signature` is `v1,` HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` with your `whsec_` secret.',
        tags: ['Webhooks'],
        parameters: [
          header('webhook-id', 'The delivery id: the same on every retry of this event to this endpoint.'),
          header('webhook-timestamp', 'Seconds since the epoch when this attempt was signed.'),
          header('webhook-signature', 'Space-separated `v1,<base64>` signatures (two during a secret rotation).'),
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                allOf: [
                  { $ref: EVENT_REF },
                  {
                    type: 'object',
                    properties: {
                      type: { const: registration.cloudEventType },
                      data: { $ref: `#/components/schemas/${dataComponentOf(type)}` },
                    },
                  },
                ],
              },
            },
          },
        },
        responses: {
          '2XX': { description: 'Received; any 2xx counts as delivered.' },
          '410': { description: 'Gone: the endpoint is disabled.' },
        },
      },
    };
  }
  return webhooks;
}

/** The document, with URLs under `baseUrl`. */
export function openApiDocument(baseUrl: string): Json {
  const base = baseUrl.replace(/\/+$/, '');
  const paths: Record<string, Json> = {};
  for (const route of V1_ROUTES) {
    const item = (paths[route.path] ??= {});
    item[route.method.toLowerCase()] = operationOf(route);
  }
  const schemas: Json = {
    Error: jsonSchemaOf(V1ErrorSchema, 'output'),
    Event: component(cloudEventJsonSchema(base)),
  };
  for (const type of PUBLIC_EVENT_TYPES)
    schemas[dataComponentOf(type)] = component(publicEventDataJsonSchema(type, base));
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Quorum API',
      version: '1.0.0',
      description:
        "Quorum's REST surface for integrators: authenticate with an API key (`x-api-key`) or a Bearer access token. Events are CloudEvents 1.0 envelopes; their schemas are also served under /schemas/.",
    },
    servers: [{ url: `${base}/v1` }],
    security: [{ apiKey: [] }, { bearer: [] }],
    tags: [
      { name: 'Organizations' },
      { name: 'Members' },
      { name: 'Events' },
      { name: 'Webhooks', description: 'What Quorum sends to your endpoints.' },
    ],
    paths,
    webhooks: webhooksOf(),
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'An API key of the organization.' },
        bearer: { type: 'http', scheme: 'bearer', description: "A user's access token (`auth.login`)." },
      },
      schemas,
    },
  };
}

export function createOpenApiRoute(deps: Pick<GatewayDeps, 'publicUrl' | 'trustProxy' | 'secureCookies'>) {
  // One generation per origin the gateway is reached at (one, or a few behind proxies).
  const byBase = new Map<string, string>();
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'application/json', allow: 'GET, HEAD' });
      res.end(
        JSON.stringify({
          error: {
            code: 'METHOD_NOT_SUPPORTED',
            reason: 'v1.method_not_allowed',
            message: 'Read the document with GET.',
          },
        }),
      );
      return;
    }
    const base = publicBaseUrl(req, deps);
    let text = byBase.get(base);
    if (!text) {
      if (byBase.size >= 8) byBase.clear();
      text = JSON.stringify(openApiDocument(base), null, 2);
      byBase.set(base, text);
    }
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'public, max-age=300',
      'access-control-allow-origin': '*',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
}
