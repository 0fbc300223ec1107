import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Lifecycle, run, type ProcessPort, type ResourceKind } from './lifecycle';

const logger = pino({ level: 'silent' });

/** A resource that records each close into `log`, failing when told to. */
function resource(log: string[], name: string, fail = false) {
  return {
    closes: 0,
    async close() {
      this.closes++;
      // Yield, so a close that is not awaited before the next one starts would interleave.
      await new Promise((r) => setTimeout(r, 1));
      log.push(name);
      if (fail) throw new Error(`${name} would not close`);
    },
  };
}

/** A process whose signals the test sends and whose exit it records. */
function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  let exited: (code: number) => void = () => {};
  const exitedOnce = new Promise<number>((resolve) => (exited = resolve));
  const port: ProcessPort = {
    once: (signal, listener) => emitter.once(signal, listener),
    off: (signal, listener) => emitter.off(signal, listener),
    exit: (code) => {
      exits.push(code);
      exited(code);
    },
  };
  return {
    port,
    exits,
    exitedOnce,
    send: (signal: NodeJS.Signals) => emitter.emit(signal, signal),
    listeners: (signal: NodeJS.Signals) => emitter.listenerCount(signal),
  };
}

describe('Lifecycle', () => {
  it('closes servers, consumers, connections, the store and telemetry in that order, each kind newest first', async () => {
    const log: string[] = [];
    const life = new Lifecycle({ logger });
    // Registered in start order, which is not the shutdown order.
    const order: Array<[ResourceKind, string]> = [
      ['telemetry', 'telemetry'],
      ['store', 'postgres'],
      ['store', 'event store'],
      ['connection', 'nats'],
      ['connection', 'redis'],
      ['consumer', 'relay'],
      ['consumer', 'projector'],
      ['server', 'http'],
      ['server', 'sfu'],
    ];
    for (const [kind, name] of order) life.use(kind, name, resource(log, name));

    expect(await life.close()).toBe(true);
    expect(log).toEqual(['sfu', 'http', 'projector', 'relay', 'redis', 'nats', 'event store', 'postgres', 'telemetry']);
  });

  it('closes each resource once however often close is called', async () => {
    const log: string[] = [];
    const life = new Lifecycle({ logger });
    const bus = life.use('connection', 'bus', resource(log, 'bus'));
    const server = life.use('server', 'http', resource(log, 'http'));

    const results = await Promise.all([life.close(), life.close()]);
    expect(await life.close()).toBe(true);
    expect(results).toEqual([true, true]);
    expect([bus.closes, server.closes]).toEqual([1, 1]);
    expect(log).toEqual(['http', 'bus']);
  });

  it('still closes the rest when one step fails, and reports the failure', async () => {
    const log: string[] = [];
    const life = new Lifecycle({ logger });
    life.use('store', 'postgres', resource(log, 'postgres'));
    life.use('connection', 'nats', resource(log, 'nats', true));
    life.onClose('server', 'http', () => {
      log.push('http');
      throw new Error('synchronous failure');
    });

    expect(await life.close()).toBe(false);
    expect(log).toEqual(['http', 'nats', 'postgres']);
  });

  it('does not count a failed telemetry flush as a failed shutdown', async () => {
    const log: string[] = [];
    const life = new Lifecycle({ logger });
    life.use('telemetry', 'telemetry', resource(log, 'telemetry', true));
    life.use('store', 'postgres', resource(log, 'postgres'));

    expect(await life.close()).toBe(true);
    expect(log).toEqual(['postgres', 'telemetry']);
  });

  it('closes at once what is registered after the shutdown began', async () => {
    const log: string[] = [];
    const life = new Lifecycle({ logger });
    await life.close();
    const late = life.use('connection', 'late', resource(log, 'late'));
    await expect.poll(() => log).toEqual(['late']);
    expect(late.closes).toBe(1);
  });
});

describe('run', () => {
  it('runs until a signal, then closes everything and exits 0', async () => {
    const log: string[] = [];
    const proc = fakeProcess();
    await run({ name: 'test', logger, process: proc.port }, async (life) => {
      life.use('store', 'postgres', resource(log, 'postgres'));
      life.use('server', 'http', resource(log, 'http'));
    });
    expect(log).toEqual([]);

    proc.send('SIGTERM');
    expect(await proc.exitedOnce).toBe(0);
    expect(log).toEqual(['http', 'postgres']);
  });

  it('handles only the first signal: a second SIGTERM or SIGINT starts no second shutdown', async () => {
    const proc = fakeProcess();
    const log: string[] = [];
    let http: ReturnType<typeof resource> | undefined;
    await run({ name: 'test', logger, process: proc.port }, async (life) => {
      http = life.use('server', 'http', resource(log, 'http'));
    });
    expect([proc.listeners('SIGTERM'), proc.listeners('SIGINT')]).toEqual([1, 1]);

    proc.send('SIGINT');
    // Both handlers are gone, so a second signal gets Node's default: the process ends at once.
    expect([proc.listeners('SIGTERM'), proc.listeners('SIGINT')]).toEqual([0, 0]);
    proc.send('SIGTERM');
    proc.send('SIGINT');
    await proc.exitedOnce;
    await new Promise((r) => setTimeout(r, 20));
    expect(proc.exits).toEqual([0]);
    expect(http!.closes).toBe(1);
  });

  it('exits 1 when a step fails, after closing the rest', async () => {
    const log: string[] = [];
    const proc = fakeProcess();
    await run({ name: 'test', logger, process: proc.port }, async (life) => {
      life.use('store', 'postgres', resource(log, 'postgres'));
      life.use('connection', 'nats', resource(log, 'nats', true));
      life.use('server', 'http', resource(log, 'http'));
    });

    proc.send('SIGTERM');
    expect(await proc.exitedOnce).toBe(1);
    expect(log).toEqual(['http', 'nats', 'postgres']);
    expect(proc.exits).toEqual([1]);
  });

  it('closes what a failed start-up opened and exits 1', async () => {
    const log: string[] = [];
    const proc = fakeProcess();
    await run({ name: 'test', logger, process: proc.port }, async (life) => {
      life.use('store', 'postgres', resource(log, 'postgres'));
      life.use('connection', 'nats', resource(log, 'nats'));
      throw new Error('the relay could not start');
    });

    expect(proc.exits).toEqual([1]);
    expect(log).toEqual(['nats', 'postgres']);
    expect([proc.listeners('SIGTERM'), proc.listeners('SIGINT')]).toEqual([0, 0]);
  });

  it('lets a start-up in progress finish when a signal arrives, then closes what it opened', async () => {
    const log: string[] = [];
    const proc = fakeProcess();
    let release: () => void = () => {};
    const opening = new Promise<void>((resolve) => (release = resolve));
    const running = run({ name: 'test', logger, process: proc.port }, async (life) => {
      life.use('store', 'postgres', resource(log, 'postgres'));
      await opening;
      life.use('server', 'http', resource(log, 'http'));
    });

    proc.send('SIGTERM');
    await new Promise((r) => setTimeout(r, 10));
    expect(proc.exits).toEqual([]);
    release();
    await running;
    expect(await proc.exitedOnce).toBe(0);
    expect(log).toEqual(['http', 'postgres']);
  });
});
