import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runEventBusContract } from '../contract/event-bus.contract';
import { NatsBus } from './nats-bus';

// The only env read in the package: the test file is the composition root of its own run.
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

runEventBusContract('nats', async () => {
  try {
    const bus = await NatsBus.create({
      servers: NATS_URL,
      name: 'bus-contract',
      timeoutMs: 3_000,
      // Each test makes uniquely named durables; let the server drop them after an hour idle.
      consumerInactiveThresholdMs: 60 * 60 * 1_000,
    });
    return { bus };
  } catch (error) {
    throw new Error(
      `NATS is not running at ${NATS_URL} (${error instanceof Error ? error.message : String(error)}). ` +
        'Start it with scripts/services.sh.',
      { cause: error },
    );
  }
});

describe('NatsBus namespace', () => {
  it('keeps two namespaces apart on one server and hides the prefix from callers', async () => {
    const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
    const a = await NatsBus.create({
      servers: url,
      namespace: `nsa${randomUUID().slice(0, 8)}`,
      consumerInactiveThresholdMs: 60_000,
    });
    const b = await NatsBus.create({
      servers: url,
      namespace: `nsb${randomUUID().slice(0, 8)}`,
      consumerInactiveThresholdMs: 60_000,
    });
    try {
      await a.ensureStream();
      await b.ensureStream();
      const id = randomUUID();
      const acks = await a.publish([{ id, subject: 'evt.org1.organization.created', position: 1n, payload: { n: 1 } }]);
      expect(acks[0]).toMatchObject({ ok: true, duplicate: false });
      const seenA: string[] = [];
      const seenB: string[] = [];
      const ca = await a.consume({
        durableName: `d${randomUUID().slice(0, 8)}`,
        handler: async (m) => void seenA.push(m.subject),
      });
      const cb = await b.consume({
        durableName: `d${randomUUID().slice(0, 8)}`,
        handler: async (m) => void seenB.push(m.subject),
      });
      const deadline = Date.now() + 5_000;
      while (seenA.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await ca.close();
      await cb.close();
      expect(seenA).toEqual(['evt.org1.organization.created']);
      expect(seenB).toEqual([]);
    } finally {
      await a.deleteStream();
      await b.deleteStream();
      await a.close();
      await b.close();
    }
  });

  it('takes every message of a pull read after the event loop stalled past the pull, without waiting out ack_wait', async () => {
    // With a fetch that closed its inbox on a client timer, the messages the server had sent
    // during a 1.5 s stall went to an inbox nobody read and came back only after ack_wait (30 s).
    const bus = await NatsBus.create({ servers: NATS_URL, namespace: `nss${randomUUID().slice(0, 8)}` });
    try {
      await bus.ensureStream();
      const ids = Array.from({ length: 40 }, () => randomUUID());
      const acks = await bus.publish(
        ids.map((id, index) => ({
          id,
          subject: 'evt.org1.seats.seat_assigned',
          position: BigInt(index + 1),
          payload: { index },
        })),
      );
      expect(acks.every((ack) => ack.ok)).toBe(true);
      const seen: string[] = [];
      const consumer = await bus.consume({
        durableName: `stall${randomUUID().slice(0, 8)}`,
        handler: async (message) => void seen.push(message.id),
      });
      // Let the pull reach the wire (nats.js writes in a microtask); then nothing reads the socket.
      for (let turn = 0; turn < 20; turn += 1) await Promise.resolve();
      const until = Date.now() + 1_500;
      while (Date.now() < until);
      const deadline = Date.now() + 20_000;
      while (seen.length < ids.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await consumer.close();
      expect(seen).toEqual(ids);
    } finally {
      await bus.deleteStream();
      await bus.close();
    }
  });

  it('deletes its stream with the messages in it; deleting a missing stream is fine', async () => {
    const namespace = `nsd${randomUUID().slice(0, 8)}`;
    const bus = await NatsBus.create({ servers: NATS_URL, namespace });
    try {
      await bus.ensureStream();
      await bus.publish([{ id: randomUUID(), subject: 'evt.org1.organization.created', position: 1n, payload: {} }]);
      await bus.deleteStream();
      await bus.deleteStream();
      // Publishing now finds no stream to store the message.
      const [ack] = await bus.publish([
        { id: randomUUID(), subject: 'evt.org1.organization.created', position: 2n, payload: {} },
      ]);
      expect(ack).toMatchObject({ ok: false });
    } finally {
      await bus.close();
    }
  });
});
