import { Validator } from '@seriousme/openapi-schema-validator';
import { PUBLIC_EVENTS, PUBLIC_EVENT_TYPES } from '@quorum/domain';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from './openapi';
import { V1_ROUTES } from './v1.routes';

const BASE = 'https://quorum.example.com';

describe('the /v1 OpenAPI document', () => {
  const doc = openApiDocument(BASE) as {
    openapi: string;
    servers: Array<{ url: string }>;
    paths: Record<string, Record<string, { operationId: string; parameters: Array<{ name: string; in: string }> }>>;
    webhooks: Record<string, unknown>;
    components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  };

  it('is valid OpenAPI 3.1 by a standard validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('has every route of the table, with its path parameters, and both security schemes', () => {
    for (const route of V1_ROUTES) {
      const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation!.operationId).toBe(route.operationId);
      for (const name of Object.keys(route.params.shape))
        expect(operation!.parameters.some((p) => p.in === 'path' && p.name === name)).toBe(true);
    }
    const operations = Object.values(doc.paths).flatMap((item) => Object.keys(item));
    expect(operations).toHaveLength(V1_ROUTES.length);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'bearer']);
    expect(doc.servers[0]!.url).toBe(`${BASE}/v1`);
  });

  it('describes a webhook payload per public event type, on the contract envelope and data schemas', () => {
    expect(Object.keys(doc.webhooks).sort()).toEqual(
      PUBLIC_EVENT_TYPES.map((t) => PUBLIC_EVENTS[t].cloudEventType).sort(),
    );
    expect(doc.components.schemas.Event).toMatchObject({ $id: `${BASE}/schemas/cloudevent.json` });
    for (const type of PUBLIC_EVENT_TYPES)
      expect(doc.components.schemas[`${type}.v${PUBLIC_EVENTS[type].version}`]).toBeDefined();
  });

  it('refers to the Event envelope from the events page rather than restating it', () => {
    const page = JSON.stringify(doc.paths['/orgs/{orgId}/events']);
    expect(page).toContain('"$ref":"#/components/schemas/Event"');
  });
});
