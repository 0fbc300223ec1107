import { PUBLIC_EVENT_TYPES } from '@quorum/domain';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

interface SchemaIndex {
  envelope: string;
  events: { type: string; cloudEventType: string; version: number; schema: string }[];
}

/** The contract's schemas as an integrator fetches them: over HTTP, without credentials. */
describe('/schemas/', () => {
  let q: TestQuorum;
  beforeAll(async () => {
    q = await startTestQuorum('publicschemas');
  });
  afterAll(async () => {
    await q?.stop();
  });

  it('lists every public type and serves each schema at the URL it names, compiling with ajv', async () => {
    const res = await fetch(`${q.baseUrl}/schemas/index.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/schema+json');
    const index = (await res.json()) as SchemaIndex;
    expect(index.events.map((e) => e.type)).toEqual([...PUBLIC_EVENT_TYPES]);
    expect(index.envelope).toBe(`${q.baseUrl}/schemas/cloudevent.json`);

    const ajv = new Ajv2020({ strict: true });
    addFormats(ajv);
    for (const url of [index.envelope, ...index.events.map((e) => e.schema)]) {
      const schema = (await (await fetch(url)).json()) as { $id: string };
      // Each schema names itself by the URL it is served at, so `dataschema` resolves to it.
      expect(schema.$id).toBe(url);
      ajv.addSchema(schema);
    }
    expect(ajv.validate(index.envelope, { specversion: '1.0' })).toBe(false);
  });

  it('answers 404 with the index URL for an unknown schema, 405 for anything but GET and HEAD', async () => {
    const missing = await fetch(`${q.baseUrl}/schemas/events/billing.sync_failed.v1.json`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: expect.stringContaining('/schemas/index.json') });
    const head = await fetch(`${q.baseUrl}/schemas/cloudevent.json`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(`${q.baseUrl}/schemas/cloudevent.json`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
