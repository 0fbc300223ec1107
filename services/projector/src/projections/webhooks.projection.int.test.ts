import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePublicSchema, migrateReadModelSchema, readModelSchema } from '@quorum/db';
import { streamIds, type WebhooksEvent } from '@quorum/domain';
import { toWireEvent, type RecordedEvent } from '@quorum/eventstore';
import { rebuildProjection } from '../rebuild';
import {
  append,
  createTestDatabase,
  newEvent,
  snapshot,
  testDb,
  testLogger,
  type TestDatabase,
} from '../testing/projector-test-env';
import { applyEvent, applyEvents } from './core.projection';

const VERSION = 1;
const schema = readModelSchema(VERSION);
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await migratePublicSchema(t.sql);
  await migrateReadModelSchema(t.sql, VERSION);
});
afterAll(async () => {
  await t?.drop();
});

const BY = '00000000-0000-4000-8000-000000000001';

/** Two endpoints: one through every change, one deleted; appended to the org's stream. */
async function endpointLives(orgId: string) {
  const a = randomUUID();
  const b = randomUUID();
  const events: WebhooksEvent[] = [
    {
      type: 'endpoint.created',
      data: { endpointId: a, url: 'https://a.example.com/in', description: 'CRM', eventTypes: [], createdBy: BY },
    },
    {
      type: 'endpoint.created',
      data: {
        endpointId: b,
        url: 'https://b.example.com/in',
        description: '',
        eventTypes: ['member.joined', 'seat.assigned'],
        createdBy: BY,
      },
    },
    {
      type: 'endpoint.updated',
      data: {
        endpointId: a,
        url: 'https://a.example.com/v2',
        description: 'CRM sync',
        eventTypes: ['member.joined'],
        updatedBy: BY,
      },
    },
    { type: 'endpoint.paused', data: { endpointId: a, by: BY } },
    { type: 'endpoint.resumed', data: { endpointId: a, by: BY } },
    {
      type: 'endpoint.secret_rotated',
      data: { endpointId: a, by: BY, previousValidUntil: '2025-01-02T10:00:00.000Z' },
    },
    {
      type: 'endpoint.disabled',
      data: {
        endpointId: a,
        reason: 'failing',
        failingSince: '2025-01-01T00:00:00.000Z',
        at: '2025-01-06T00:00:00.000Z',
      },
    },
    { type: 'endpoint.deleted', data: { endpointId: b, by: BY } },
  ];
  const recorded = await append(
    t.store,
    streamIds.webhooks(orgId),
    events.map((e) => newEvent(orgId, e)),
  );
  return { a, b, recorded };
}

async function applyOneByOne(events: readonly RecordedEvent[], into = schema): Promise<void> {
  await testDb(t.sql)
    .transaction()
    .execute(async (trx) => {
      for (const e of events) await applyEvent(trx, into, toWireEvent(e));
    });
}

describe('webhooks projection', () => {
  it('keeps each endpoint as its events left it', async () => {
    const orgId = randomUUID();
    const { a, b, recorded } = await endpointLives(orgId);
    await applyOneByOne(recorded.slice(0, 4));
    let rows = (await snapshot(t.sql, schema, [orgId])).webhook_endpoints;
    expect(rows.find((r) => r.id === a)).toMatchObject({
      url: 'https://a.example.com/v2',
      description: 'CRM sync',
      event_types: ['member.joined'],
      status: 'paused',
      secret_rotated_at: null,
      position: recorded[3]!.position.toString(),
    });

    await applyOneByOne(recorded.slice(4));
    rows = (await snapshot(t.sql, schema, [orgId])).webhook_endpoints;
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.id === a)).toMatchObject({
      org_id: orgId,
      status: 'disabled',
      disabled_reason: 'failing',
      secret_rotated_at: new Date(recorded[5]!.occurredAt),
      created_at: new Date(recorded[0]!.occurredAt),
      updated_at: new Date(recorded[6]!.occurredAt),
      position: recorded[6]!.position.toString(),
    });
    expect(rows.find((r) => r.id === b)).toMatchObject({
      status: 'deleted',
      event_types: ['member.joined', 'seat.assigned'],
      position: recorded[7]!.position.toString(),
    });
  });

  it('refuses an endpoint event on another organization’s stream', async () => {
    const orgId = randomUUID();
    const [stray] = await append(t.store, streamIds.webhooks(randomUUID()), [
      newEvent(orgId, { type: 'endpoint.paused', data: { endpointId: randomUUID(), by: BY } }),
    ]);
    await expect(applyOneByOne([stray!])).rejects.toThrow(/not that of org/);
  });

  it('one batch, one by one and a rebuild land on the same rows', async () => {
    const orgs = [randomUUID(), randomUUID()];
    const recorded: RecordedEvent[] = [];
    for (const orgId of orgs) recorded.push(...(await endpointLives(orgId)).recorded);
    await applyOneByOne(recorded);
    const live = (await snapshot(t.sql, schema, orgs)).webhook_endpoints;
    expect(live).toHaveLength(4);

    const batchSchema = readModelSchema(7);
    await migrateReadModelSchema(t.sql, 7);
    await testDb(t.sql)
      .transaction()
      .execute((trx) => applyEvents(trx, batchSchema, recorded.map(toWireEvent)));
    expect((await snapshot(t.sql, batchSchema, orgs)).webhook_endpoints).toEqual(live);

    // Batches of three split each endpoint's history across statements. (The store also holds
    // the stray event refused above, which the rebuild sets aside as a dead letter.)
    const result = await rebuildProjection({ sql: t.sql, store: t.store, logger: testLogger(), batchSize: 3 });
    expect((await snapshot(t.sql, readModelSchema(result.version), orgs)).webhook_endpoints).toEqual(live);
  });
});
