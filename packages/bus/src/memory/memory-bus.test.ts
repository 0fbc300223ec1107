import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runEventBusContract } from '../contract/event-bus.contract';
import { eventSubject } from '../subject';
import { createMemoryBus } from './memory-bus';

runEventBusContract('memory', async () => ({ bus: createMemoryBus() }));

describe('memory bus duplicate window', () => {
  it('stores a repeated id again once the window has passed', async () => {
    let now = 0;
    const bus = createMemoryBus({ now: () => now, duplicateWindowMs: 1_000 });
    const message = {
      id: randomUUID(),
      subject: eventSubject('org1', 'seats', 'seat.assigned'),
      position: 1n,
      payload: {},
    };
    expect((await bus.publish([message]))[0]).toMatchObject({ duplicate: false });
    now = 999;
    expect((await bus.publish([message]))[0]).toMatchObject({ duplicate: true });
    now = 2_000;
    expect((await bus.publish([message]))[0]).toMatchObject({ duplicate: false });
    await bus.close();
  });
});

describe('previousPosition', () => {
  it('refuses a previousPosition that does not precede the position, before storing anything', async () => {
    const bus = createMemoryBus();
    const subject = eventSubject(randomUUID(), 'contract', 'thing.happened');
    const message = { id: randomUUID(), subject, position: 600n, payload: {} };
    await expect(bus.publish([{ ...message, previousPosition: 600n }])).rejects.toMatchObject({ code: 'INVALID' });
    await expect(bus.publish([{ ...message, previousPosition: -1n }])).rejects.toMatchObject({ code: 'INVALID' });
    expect(await bus.publish([{ ...message, previousPosition: 599n }])).toMatchObject([{ ok: true, duplicate: false }]);
    await bus.close();
  });
});
