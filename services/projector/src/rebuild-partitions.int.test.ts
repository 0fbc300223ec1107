import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelSchema } from '@quorum/db';
import type { NewEvent } from '@quorum/eventstore';
import { readActiveVersion, readCheckpoint } from './bookkeeping.repository';
import { partitionOf, rebuildProjection } from './rebuild';
import {
  append,
  createTestDatabase,
  newEvent,
  orgScenario,
  orgStream,
  seatsStream,
  snapshot,
  testDb,
  testLogger,
  type TestDatabase,
} from './testing/projector-test-env';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

/** Dead letters of one version, without their times. */
async function deadLetters(version: number) {
  const { rows } = await t.sql.query<{ event_id: string; position: string; type: string; attempts: number }>(
    `SELECT event_id, position::text AS position, type, attempts FROM projection_dead_letters
      WHERE projection = 'core' AND version = $1 ORDER BY position`,
    [version],
  );
  return rows;
}

describe('rebuildProjection with partitions', () => {
  it('builds the same rows and dead letters as one transaction per batch, with organizations interleaved', async () => {
    const orgIds = Array.from({ length: 6 }, () => randomUUID());
    // Every partition of three gets organizations, so the shares of a batch really run at once.
    expect(new Set(orgIds.map((id) => partitionOf(id, 3))).size).toBeGreaterThan(1);
    const scenarios = orgIds.map((orgId) => orgScenario(orgId));
    for (const [i, orgId] of orgIds.entries()) await append(t.store, orgStream(orgId), scenarios[i]!.organization);
    for (const [i, orgId] of orgIds.entries()) {
      await append(t.store, seatsStream(orgId), [
        newEvent(orgId, { type: 'seats.purchased', data: { quantity: 10 + i, total: 10 + i } }),
      ]);
    }
    // Rounds over every organization: invitations, joins, seats, role changes, so each batch
    // of 7 mixes organizations of every partition.
    const users = new Map<string, string[]>(orgIds.map((id) => [id, []]));
    for (let round = 0; round < 8; round++) {
      for (const orgId of orgIds) {
        const userId = randomUUID();
        const invitationId = randomUUID();
        const email = `m${round}@${orgId.slice(0, 8)}.test`;
        await append(t.store, orgStream(orgId), [
          newEvent(orgId, {
            type: 'member.invited',
            data: {
              invitationId,
              email,
              role: 'member',
              invitedBy: scenarios[0]!.ownerId,
              expiresAt: '2030-01-01T00:00:00.000Z',
            },
          }),
          newEvent(orgId, { type: 'member.joined', data: { userId, email, role: 'member', invitationId } }),
        ]);
        await append(t.store, seatsStream(orgId), [newEvent(orgId, { type: 'seat.assigned', data: { userId } })]);
        users.get(orgId)!.push(userId);
        if (round % 3 === 2) {
          const [gone] = users.get(orgId)!;
          await append(t.store, seatsStream(orgId), [
            newEvent(orgId, { type: 'seat.unassigned', data: { userId: gone!, reason: 'member_removed' } }),
          ]);
          await append(t.store, orgStream(orgId), [
            newEvent(orgId, { type: 'member.removed', data: { userId: gone! } }),
          ]);
          users.get(orgId)!.shift();
        }
      }
    }
    // One Stripe customer linked by two organizations (likely in different partitions): the
    // later link owns it, whatever order the partitions commit in.
    for (const orgId of [orgIds[0]!, orgIds[3]!]) {
      await append(t.store, `billing-${orgId}`, [
        newEvent(orgId, {
          type: 'billing.customer_linked',
          data: {
            customerId: 'cus_shared',
            cause: { eventId: randomUUID(), type: 'organization.created' },
            at: '2025-01-02T00:00:00.000Z',
          },
        }),
      ]);
    }
    // A poison event (data its schema refuses) in one organization: dead-lettered either way.
    const poison: NewEvent = {
      ...newEvent(orgIds[4]!, { type: 'organization.activated', data: {} }),
      type: 'member.joined',
      data: { nobody: true },
    };
    await append(t.store, orgStream(orgIds[4]!), [poison]);
    const head = await t.store.headPosition();

    const serial = await rebuildProjection({
      sql: t.sql,
      store: t.store,
      logger: testLogger(),
      batchSize: 7,
      partitions: 1,
    });
    const parallel = await rebuildProjection({
      sql: t.sql,
      store: t.store,
      logger: testLogger(),
      batchSize: 7,
      partitions: 3,
    });
    expect(serial).toMatchObject({ version: serial.previousVersion + 1, deadLetters: 1, checkpoint: head });
    expect(parallel).toMatchObject({
      previousVersion: serial.version,
      version: serial.version + 1,
      events: serial.events,
      deadLetters: 1,
      checkpoint: head,
    });
    expect(await readActiveVersion(testDb(t.sql), 'core')).toBe(parallel.version);
    expect(await readCheckpoint(testDb(t.sql), 'core', parallel.version)).toBe(head);

    const one = await snapshot(t.sql, readModelSchema(serial.version), orgIds);
    const three = await snapshot(t.sql, readModelSchema(parallel.version), orgIds);
    expect(three).toEqual(one);
    expect(one.members.length).toBe(6 * (2 + 8 - 2));
    expect(one.seat_assignments.length).toBe(6 * (8 - 2));
    expect(one.billing_customers).toEqual([expect.objectContaining({ customer_id: 'cus_shared', org_id: orgIds[3] })]);
    expect(await deadLetters(parallel.version)).toEqual(await deadLetters(serial.version));
    expect(await deadLetters(parallel.version)).toEqual([
      expect.objectContaining({ event_id: poison.id, type: 'member.joined', attempts: 3 }),
    ]);
  });

  it('refuses a partition count outside 1 to 8 before touching anything', async () => {
    const before = await readActiveVersion(testDb(t.sql), 'core');
    for (const partitions of [0, 9, 1.5]) {
      await expect(rebuildProjection({ sql: t.sql, store: t.store, logger: testLogger(), partitions })).rejects.toThrow(
        /partitions must be an integer from 1 to 8/,
      );
    }
    expect(await readActiveVersion(testDb(t.sql), 'core')).toBe(before);
  });
});
