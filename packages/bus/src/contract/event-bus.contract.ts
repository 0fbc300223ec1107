/**
 * The contract every `EventBus` adapter passes. Tests share one server and one stream, so each
 * test uses its own organization id (hence subjects) and durable names; nothing is purged.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BusError } from '../bus-error';
import {
  lastContiguousPosition,
  type BusMessage,
  type Consumer,
  type DeliveredMessage,
  type EventBus,
} from '../event-bus';
import { eventSubject, orgSubjectFilter } from '../subject';

export interface EventBusFixture {
  readonly bus: EventBus;
  readonly cleanup?: () => Promise<void>;
}

const WAIT_MS = 15_000;
/** Time given to a wrongly redelivered or duplicated message to show up before asserting. */
const SETTLE_MS = 400;

function uniqueOrg(): string {
  return `org${randomUUID().replaceAll('-', '')}`;
}

function uniqueDurable(label: string): string {
  return `contract-${label}-${randomUUID().slice(0, 8)}`;
}

function messages(orgId: string, count: number, startPosition = 1n, type = 'thing.happened'): BusMessage[] {
  const subject = eventSubject(orgId, 'contract', type);
  return Array.from({ length: count }, (_, index) => {
    const position = startPosition + BigInt(index);
    return { id: randomUUID(), subject, position, payload: { n: Number(position), orgId, nested: { ok: true } } };
  });
}

/** Resolves once `predicate` holds, polling; rejects with `what` after WAIT_MS. */
async function waitFor(what: string, predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** Defines the contract suite for one adapter. `factory` runs before every test. */
export function runEventBusContract(name: string, factory: () => Promise<EventBusFixture>): void {
  describe(`EventBus contract: ${name}`, () => {
    let fixture: EventBusFixture | undefined;
    let bus: EventBus;
    const consumers: Consumer[] = [];

    async function consume(
      durableName: string,
      filterSubjects: string[],
      handler: (message: DeliveredMessage) => Promise<void>,
      extra: { maxAckPending?: number } = {},
    ): Promise<Consumer> {
      const consumer = await bus.consume({
        durableName,
        filterSubjects,
        handler,
        redeliveryDelayMs: () => 50,
        ...extra,
      });
      consumers.push(consumer);
      return consumer;
    }

    beforeEach(async () => {
      fixture = undefined;
      fixture = await factory();
      bus = fixture.bus;
      await bus.ensureStream();
    });

    afterEach(async () => {
      if (!fixture) return; // the factory failed; beforeEach already reported why
      await Promise.all(consumers.splice(0).map((consumer) => consumer.close()));
      await fixture.bus.close();
      await fixture.cleanup?.();
    });

    it('delivers published messages in order with their id, subject, position and payload', async () => {
      const orgId = uniqueOrg();
      const sent = messages(orgId, 5, 100n);
      const acks = await bus.publish(sent);
      expect(acks.map((ack) => [ack.id, ack.ok, ack.duplicate])).toEqual(sent.map((m) => [m.id, true, false]));
      expect(lastContiguousPosition(acks)).toBe(104n);

      const received: DeliveredMessage[] = [];
      await consume(uniqueDurable('order'), [orgSubjectFilter(orgId)], async (message) => {
        received.push(message);
      });
      await waitFor('5 messages', () => received.length >= 5);
      await settle();
      expect(received).toEqual(sent.map((message) => ({ ...message, deliveryCount: 1 })));
    });

    it('carries previousPosition when the publisher gives it, and refuses one that does not precede the position', async () => {
      const orgId = uniqueOrg();
      const [a, b, c] = messages(orgId, 3, 500n) as [BusMessage, BusMessage, BusMessage];
      const chained = [
        { ...a, previousPosition: 0n },
        { ...b, previousPosition: a.position },
        c, // a publisher may leave it out
      ];
      await bus.publish(chained);
      const received: DeliveredMessage[] = [];
      await consume(uniqueDurable('previous'), [orgSubjectFilter(orgId)], async (message) => {
        received.push(message);
      });
      await waitFor('3 messages', () => received.length >= 3);
      expect(received.map((m) => m.previousPosition)).toEqual([0n, 500n, undefined]);
      expect('previousPosition' in received[2]!).toBe(false);
    });

    it('delivers a message published twice with the same id once and acks the repeat as duplicate', async () => {
      const orgId = uniqueOrg();
      const [first, second] = messages(orgId, 2) as [BusMessage, BusMessage];
      expect(await bus.publish([first])).toMatchObject([{ id: first.id, ok: true, duplicate: false }]);
      expect(await bus.publish([first, second])).toMatchObject([
        { id: first.id, ok: true, duplicate: true },
        { id: second.id, ok: true, duplicate: false },
      ]);

      const received: string[] = [];
      await consume(uniqueDurable('dedupe'), [orgSubjectFilter(orgId)], async (message) => {
        received.push(message.id);
      });
      await waitFor('2 messages', () => received.length >= 2);
      await settle();
      expect(received).toEqual([first.id, second.id]);
    });

    it('redelivers a message whose handler threw, with deliveryCount 2', async () => {
      const orgId = uniqueOrg();
      const [message] = messages(orgId, 1) as [BusMessage];
      await bus.publish([message]);

      const deliveries: Array<[string, number]> = [];
      await consume(uniqueDurable('redeliver'), [orgSubjectFilter(orgId)], async (delivered) => {
        deliveries.push([delivered.id, delivered.deliveryCount]);
        if (delivered.deliveryCount === 1) throw new Error('handler failed on purpose');
      });
      await waitFor('the redelivery', () => deliveries.length >= 2);
      await settle();
      expect(deliveries).toEqual([
        [message.id, 1],
        [message.id, 2],
      ]);
    });

    it('resumes a durable consumer after its last acked message: no loss, no repeat', async () => {
      const orgId = uniqueOrg();
      const sent = messages(orgId, 20);
      await bus.publish(sent);
      const durable = uniqueDurable('resume');

      const firstRun: string[] = [];
      let reachedFive!: () => void;
      const fiveHandled = new Promise<void>((resolve) => (reachedFive = resolve));
      const first = await consume(
        durable,
        [orgSubjectFilter(orgId)],
        async (message) => {
          firstRun.push(message.id);
          if (firstRun.length === 5) {
            reachedFive();
            // Hold the 5th handler so close() is requested while a message is in progress.
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        },
        { maxAckPending: 5 },
      );
      await fiveHandled;
      await first.close();
      await first.close(); // idempotent
      const handledBeforeClose = firstRun.length;
      expect(handledBeforeClose).toBeLessThan(20);

      const secondRun: string[] = [];
      await consume(
        durable,
        [orgSubjectFilter(orgId)],
        async (message) => {
          secondRun.push(message.id);
        },
        { maxAckPending: 5 },
      );
      await waitFor('the remaining messages', () => firstRun.length + secondRun.length >= 20);
      await settle();
      expect(firstRun).toHaveLength(handledBeforeClose); // nothing handled after close()
      expect([...firstRun, ...secondRun]).toEqual(sent.map((message) => message.id));
    });

    it('delivers only subjects matching the filter', async () => {
      const wanted = uniqueOrg();
      const other = uniqueOrg();
      const mine = messages(wanted, 3, 1n);
      const theirs = messages(other, 3, 10n);
      await bus.publish([mine[0]!, theirs[0]!, mine[1]!, theirs[1]!, theirs[2]!, mine[2]!]);

      const received: string[] = [];
      await consume(uniqueDurable('filter'), [orgSubjectFilter(wanted)], async (message) => {
        received.push(message.subject);
      });
      await waitFor('3 messages', () => received.length >= 3);
      await settle();
      expect(received).toEqual(mine.map((message) => message.subject));
      expect(received.every((subject) => subject.startsWith(`evt.${wanted}.`))).toBe(true);
    });

    it('delivers 1,000 messages exactly once, in order', async () => {
      const orgId = uniqueOrg();
      const sent = messages(orgId, 1_000);
      for (let offset = 0; offset < sent.length; offset += 250) {
        const acks = await bus.publish(sent.slice(offset, offset + 250));
        expect(acks.every((ack) => ack.ok && !ack.duplicate)).toBe(true);
      }

      const received: bigint[] = [];
      await consume(uniqueDurable('thousand'), [orgSubjectFilter(orgId)], async (message) => {
        received.push(message.position);
      });
      await waitFor('1,000 messages', () => received.length >= 1_000);
      await settle();
      expect(received).toEqual(sent.map((message) => message.position));
    });

    it('reports each failure and the contiguous position a relay may checkpoint', async () => {
      const orgId = uniqueOrg();
      const [a, b, c] = messages(orgId, 3, 7n) as [BusMessage, BusMessage, BusMessage];
      // No stream captures this subject, so the server refuses it.
      const orphan: BusMessage = { ...b, subject: `nostream.${orgId}.contract.thing` };
      const acks = await bus.publish([a, orphan, c]);
      expect(acks.map((ack) => ack.id)).toEqual([a.id, orphan.id, c.id]);
      expect(acks[0]).toMatchObject({ ok: true });
      expect(acks[1]?.ok === false && acks[1].error.code).toBe('REJECTED');
      // Pipelined adapters may have stored the message after the failure; others skip it.
      expect(acks[2]?.ok === true || (acks[2]?.ok === false && acks[2].error.code === 'NOT_ATTEMPTED')).toBe(true);
      expect(lastContiguousPosition(acks)).toBe(7n);
    });

    it('rejects a bad subject or payload before sending anything', async () => {
      const orgId = uniqueOrg();
      const [good] = messages(orgId, 1) as [BusMessage];
      await expect(bus.publish([good, { ...good, id: randomUUID(), subject: 'evt..x' }])).rejects.toMatchObject({
        code: 'INVALID',
      });
      await expect(bus.publish([{ ...good, payload: 1n }])).rejects.toBeInstanceOf(BusError);

      const received: string[] = [];
      await consume(uniqueDurable('invalid'), [orgSubjectFilter(orgId)], async (message) => {
        received.push(message.id);
      });
      await settle();
      expect(received).toEqual([]);
    });

    it('a batch handler gets a burst in order, each message once, in batches of more than one', async () => {
      const orgId = uniqueOrg();
      const sent = messages(orgId, 300);
      expect((await bus.publish(sent)).every((ack) => ack.ok)).toBe(true);
      const batches: string[][] = [];
      const consumer = await bus.consume({
        durableName: uniqueDurable('batch'),
        filterSubjects: [orgSubjectFilter(orgId)],
        maxAckPending: 1000,
        maxBatch: 100,
        batchHandler: async (batch) => void batches.push(batch.map((m) => m.id)),
      });
      consumers.push(consumer);
      await waitFor('300 messages in batches', () => batches.flat().length >= 300);
      await settle();
      expect(batches.flat()).toEqual(sent.map((m) => m.id));
      expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThan(1);
      expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(100);
      // A lone message later is handed over on its own, without waiting for a full batch.
      const [late] = messages(orgId, 1, 301n) as [BusMessage];
      const sentAt = Date.now();
      await bus.publish([late]);
      await waitFor('the late message', () => batches.flat().includes(late.id));
      expect(batches.at(-1)).toEqual([late.id]);
      // Well under the NATS adapter's 1 s fetch expiry: the batch did not wait for more.
      expect(Date.now() - sentAt).toBeLessThan(500);
    });

    it('a throwing batch handler gets the whole batch again', async () => {
      const orgId = uniqueOrg();
      const sent = messages(orgId, 5);
      await bus.publish(sent);
      // How the five arrive in batches depends on timing (one batch, or several): the first
      // batch, whatever it holds, fails; every message in it must come back, and nothing else.
      let failedBatch: string[] | undefined;
      const deliveries: Array<{ id: string; count: number }> = [];
      const handled = new Set<string>();
      const consumer = await bus.consume({
        durableName: uniqueDurable('batch-fail'),
        filterSubjects: [orgSubjectFilter(orgId)],
        maxAckPending: 100,
        redeliveryDelayMs: () => 50,
        batchHandler: async (batch) => {
          for (const m of batch) deliveries.push({ id: m.id, count: m.deliveryCount });
          if (!failedBatch) {
            failedBatch = batch.map((m) => m.id);
            throw new Error('first attempt fails');
          }
          for (const m of batch) handled.add(m.id);
        },
      });
      consumers.push(consumer);
      await waitFor('every message handled', () => sent.every((m) => handled.has(m.id)));
      await settle();
      expect(failedBatch!.length).toBeGreaterThan(0);
      const again = deliveries.filter((d) => d.count === 2).map((d) => d.id);
      expect(again.sort()).toEqual([...failedBatch!].sort());
      expect(deliveries).toHaveLength(sent.length + failedBatch!.length);
      expect(deliveries.filter((d) => d.count === 1).map((d) => d.id)).toEqual(sent.map((m) => m.id));
    });

    it('needs exactly one of handler and batchHandler', async () => {
      await expect(
        bus.consume({ durableName: uniqueDurable('none'), filterSubjects: ['evt.x.>'] }),
      ).rejects.toMatchObject({ code: 'INVALID' });
    });

    it('refuses to use a bus after close(), and close() is idempotent', async () => {
      await bus.close();
      await bus.close();
      await expect(bus.publish(messages(uniqueOrg(), 1))).rejects.toMatchObject({ code: 'CLOSED' });
    });
  });
}
