/**
 * `/v1/openapi.json` as integrators use it: valid OpenAPI 3.1 by a standard validator, every
 * route of the table in it, its example requests working against a real Quorum with answers
 * that match its schemas, and a Python client (httpx) that knows only the document paging the
 * events and resuming the stream after a disconnect with no gap and no repeat.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually';
import { createOrg, signUp, type TestUser } from '../support/people';
import { expectPublicEvent, publicContractValidator, type PublicContractValidator } from '../support/public-contract';
import { pythonWith } from '../support/python';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';
import { openSse, v1Client } from '../support/v1';

const V1_ROUTE_COUNT = 18;
const CLIENT = fileURLToPath(new URL('../clients/v1_client.py', import.meta.url));

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  example?: unknown;
}
interface Operation {
  operationId: string;
  parameters: Parameter[];
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
interface Document {
  openapi: string;
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, unknown>;
}

let q: TestQuorum;
let v1: ReturnType<typeof v1Client>;
let contract: PublicContractValidator;
let owner: TestUser;
let orgId: string;
let key: string;
let doc: Document;
/** A webhook receiver on loopback (the test Quorum allows loopback and http) that takes everything. */
let receiver: Server;
let receiverUrl: string;

async function adminKey(org: string, by: TestUser): Promise<string> {
  const created = await q.http.mutation('apiKeys.create', { orgId: org, name: 'integration' }, { token: by.token });
  await q.http.query('apiKeys.list', { orgId: org, minPosition: created.position }, { token: by.token });
  return created.secret as string;
}

beforeAll(async () => {
  receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/quorum`;
  q = await startTestQuorum('v1openapi');
  v1 = v1Client(q.baseUrl);
  contract = publicContractValidator(q.baseUrl);
  owner = await signUp(q.http, 'v1-doc');
  ({ orgId } = await createOrg(q.http, owner, 'pro'));
  key = await adminKey(orgId, owner);
  const res = await fetch(`${q.baseUrl}/v1/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
});

afterAll(async () => {
  await q?.stop();
  receiver?.closeAllConnections();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
});

describe('the document', () => {
  it('is valid OpenAPI 3.1 by a standard validator, served without a credential', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers[0]!.url).toBe(`${q.baseUrl}/v1`);
  });

  it('covers every route, and every route it names answers', async () => {
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations).toHaveLength(V1_ROUTE_COUNT);
    for (const { path, method, op } of operations) {
      const res = await fetch(
        `${q.baseUrl}/v1${path.replace('{orgId}', orgId).replace('{endpointId}', randomUUID()).replace('{deliveryId}', randomUUID())}`,
        {
          method: method.toUpperCase(),
          ...(op.requestBody ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}),
        },
      );
      // Without a credential: every documented route exists (401, not 404 or 405).
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });

  it("runs each operation's example request, and the answer matches the documented schema", async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'urn:quorum:v1', components: doc.components, paths: doc.paths });
    // A fresh organization, so the example invitation is its first.
    const boss = await signUp(q.http, 'v1-examples');
    const fresh = await createOrg(q.http, boss, 'pro');
    const freshKey = await adminKey(fresh.orgId, boss);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        let url = `${doc.servers[0]!.url}${path}`;
        const query = new URLSearchParams();
        // An operation on one endpoint gets an endpoint of its own (the examples delete one),
        // subscribed to this test's receiver: the examples' public host does not resolve here.
        let endpointId: string | undefined;
        if (path.includes('{endpointId}')) {
          const created = (await q.http.mutation(
            'webhooks.create',
            { orgId: fresh.orgId, url: receiverUrl },
            { token: boss.token },
          )) as { endpoint: { id: string }; position: string };
          endpointId = created.endpoint.id;
          // Only a paused (or disabled) endpoint resumes.
          if (op.operationId === 'resumeWebhookEndpoint')
            created.position = (
              (await q.http.mutation('webhooks.pause', { orgId: fresh.orgId, endpointId }, { token: boss.token })) as {
                position: string;
              }
            ).position;
          // Reads answer from the read model: wait until the endpoint is in it.
          await q.http.query(
            'webhooks.get',
            { orgId: fresh.orgId, endpointId, minPosition: created.position },
            { token: boss.token },
          );
        }
        // An operation on one delivery gets a delivery made for it: an endpoint, an event, its delivery.
        let deliveryId: string | undefined;
        if (path.includes('{deliveryId}')) {
          const created = (await q.http.mutation(
            'webhooks.create',
            { orgId: fresh.orgId, url: receiverUrl },
            { token: boss.token },
          )) as { endpoint: { id: string }; position: string };
          await q.http.mutation('seats.purchase', { orgId: fresh.orgId, quantity: 1 }, { token: boss.token });
          deliveryId = await eventually(async () => {
            const page = (await q.http.query(
              'webhookDeliveries.list',
              { orgId: fresh.orgId, endpointId: created.endpoint.id, status: 'delivered' },
              { token: boss.token },
            )) as { items: Array<{ deliveryId: string }> };
            expect(page.items.length).toBeGreaterThan(0);
            return page.items[0]!.deliveryId;
          }, 30_000);
        }
        for (const p of op.parameters) {
          if (p.in === 'path')
            url = url.replace(
              `{${p.name}}`,
              p.name === 'orgId'
                ? fresh.orgId
                : p.name === 'endpointId'
                  ? endpointId!
                  : p.name === 'deliveryId'
                    ? deliveryId!
                    : String(p.example),
            );
          else if (p.in === 'query' && p.example !== undefined) query.set(p.name, String(p.example));
        }
        if ([...query].length > 0) url += `?${query}`;
        const [status, response] = Object.entries(op.responses)[0]!;
        if (response.content?.['text/event-stream']) {
          const s = await openSse(url, { 'x-api-key': freshKey });
          expect(s.status, op.operationId).toBe(Number(status));
          const [first] = await s.waitFor((m) => m.length > 0);
          expectPublicEvent(contract, JSON.parse(first!.data));
          s.close();
          continue;
        }
        const example = op.requestBody?.content['application/json']?.example as Record<string, unknown> | undefined;
        const body = example && 'url' in example ? { ...example, url: receiverUrl } : example;
        const res = await fetch(url, {
          method: method.toUpperCase(),
          headers: { 'x-api-key': freshKey, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        const answer = (await res.json()) as unknown;
        expect(res.status, `${op.operationId}: ${JSON.stringify(answer)}`).toBe(Number(status));
        const pointer = `/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}/responses/${status}/content/application~1json/schema`;
        const valid = ajv.validate({ $ref: `urn:quorum:v1#${pointer}` }, answer);
        expect(ajv.errors ?? [], op.operationId).toEqual([]);
        expect(valid).toBe(true);
        // The schema is the documented one, not an empty one that takes anything.
        expect(ajv.validate({ $ref: `urn:quorum:v1#${pointer}` }, {}), op.operationId).toBe(false);
      }
    }
  });
});

describe('a Python client (httpx) that knows only the document', () => {
  it('pages the events and resumes the stream after a disconnect with no gap and no repeat', async () => {
    const python = await pythonWith(['httpx==0.28.1'], ['httpx']);
    for (let i = 0; i < 6; i++) {
      const res = await v1('POST', `/orgs/${orgId}/invitations`, {
        apiKey: key,
        body: { email: `py-${i}-${randomUUID().slice(0, 6)}@example.com`, role: 'member' },
      });
      expect(res.status).toBe(201);
    }
    const settle = await q.http.mutation(
      'members.invite',
      { orgId, email: `py-settle-${randomUUID().slice(0, 6)}@example.com`, role: 'member' },
      { apiKey: key },
    );
    await q.http.query('members.list', { orgId, minPosition: settle.position }, { token: owner.token });
    const all = async () => {
      const res = await v1('GET', `/orgs/${orgId}/events?limit=500`, { apiKey: key });
      return (res.body.data as Array<{ id: string }>).map((e) => e.id);
    };
    const before = await all();

    const child = spawn(python, [CLIENT, q.baseUrl, key, orgId], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const step = async (name: string) => {
      const { value, done } = await lines.next();
      if (done) throw new Error(`the Python client stopped before "${name}": ${stderr}`);
      const parsed = JSON.parse(value as string) as { step: string; events: Array<{ id: string }> } & Record<
        string,
        unknown
      >;
      expect(parsed.step).toBe(name);
      for (const e of parsed.events) expectPublicEvent(contract, e);
      return parsed;
    };

    const paged = await step('paged');
    expect(paged.events.map((e) => e.id)).toEqual(before);
    expect(paged.pages).toBe(Math.ceil(before.length / 3) + (before.length % 3 === 0 ? 1 : 0));

    const first = await step('disconnected');
    expect(first.events.map((e) => e.id)).toEqual(before.slice(0, first.events.length));
    // Meanwhile more happens.
    let lastPosition = '';
    for (let i = 0; i < 3; i++) {
      const res = await v1('POST', `/orgs/${orgId}/invitations`, {
        apiKey: key,
        body: { email: `py-away-${i}-${randomUUID().slice(0, 6)}@example.com`, role: 'member' },
      });
      lastPosition = res.body.position as string;
    }
    await q.http.query('members.list', { orgId, minPosition: lastPosition }, { token: owner.token });
    const after = await all();
    child.stdin.write(`${after.length}\n`);

    const rest = await step('resumed');
    const streamed = [...first.events, ...rest.events].map((e) => e.id);
    expect(new Set(streamed).size).toBe(streamed.length);
    expect(streamed).toEqual(after);
    expect(await exited, stderr).toBe(0);
  });
});
