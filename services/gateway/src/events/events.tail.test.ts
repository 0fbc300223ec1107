import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ReadModels } from '../read/read-models.repository';
import { createEventTails, ROLE_CHECK_MS, TAIL_PAGE } from './events.tail';

type EventRow = Awaited<ReturnType<ReadModels['events']>>[number];

/** An event log in memory, counting the queries made on it. */
function memoryLog() {
  const rows: EventRow[] = [];
  let position = 0;
  const log = {
    queries: 0,
    append(orgId: string, n: number) {
      for (let i = 0; i < n; i++) {
        position++;
        rows.push({
          org_id: orgId,
          position: String(position),
          event_id: `e-${position}`,
          type: 'test.happened',
          stream_id: `s-${orgId}`,
          revision: String(position),
          data: { n: position },
          metadata: { actor: { kind: 'system' }, correlationId: 'c', causationId: null },
          occurred_at: new Date(0),
        } as unknown as EventRow);
      }
    },
    read: {
      async events(orgId: string, q: Parameters<ReadModels['events']>[1]) {
        log.queries++;
        const mine = rows.filter((r) => r.org_id === orgId && (q.after === undefined || BigInt(r.position) > q.after));
        const ordered = q.order === 'asc' ? mine : [...mine].reverse();
        return ordered.slice(0, q.limit);
      },
    } as Pick<ReadModels, 'events'>,
  };
  return log;
}

/** A projector hook the test advances by hand. */
function hook() {
  const listeners = new Set<() => void>();
  return {
    onProjected(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    advance() {
      for (const l of listeners) l();
    },
    get listeners() {
      return listeners.size;
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const logger = pino({ level: 'silent' });

describe('the shared event tail', () => {
  it('reads the log once per advance for any number of feeds, and each feed gets every event in order', async () => {
    const log = memoryLog();
    log.append('org', 3);
    const projector = hook();
    const tails = createEventTails({
      maxEvents: 2_000,
      maxBytes: 4 << 20,
      read: log.read,
      onProjected: projector.onProjected,
      logger,
    });
    let wakes = 0;
    const feeds = await Promise.all(Array.from({ length: 50 }, () => tails.subscribe('org', () => wakes++)));
    expect(tails.size).toBe(1);
    const start = log.queries;
    const cursors = feeds.map(() => 3n);
    const got: string[][] = feeds.map(() => []);
    for (let batch = 0; batch < 10; batch++) {
      log.append('org', 25);
      log.append('other', 5);
      projector.advance();
      await settle();
      feeds.forEach((feed, i) => {
        for (;;) {
          const page = feed.after(cursors[i] ?? -1n, TAIL_PAGE);
          expect(page).toBeDefined();
          for (const e of page?.events ?? []) {
            got[i]?.push(e.position);
            cursors[i] = BigInt(e.position);
          }
          if (!page?.more) break;
        }
      });
    }
    // One query per advance (each batch is less than a page), whatever the number of feeds.
    expect(log.queries - start).toBe(10);
    expect(wakes).toBe(50 * 10);
    const expected = (await log.read.events('org', { order: 'asc', limit: 1_000 }))
      .slice(3)
      .map((r) => String(r.position));
    for (const positions of got) expect(positions).toEqual(expected);
    // The same event objects go to every feed, so their envelopes are made once.
    expect(feeds[0]?.after(3n, 1)?.events[0]).toBe(feeds[49]?.after(3n, 1)?.events[0]);
    // Feeds at one cursor get one page object until the ring changes, so a page's text is made once.
    expect(feeds[0]?.after(3n, TAIL_PAGE)).toBe(feeds[49]?.after(3n, TAIL_PAGE));
    expect(feeds[0]?.after(3n, TAIL_PAGE)).not.toBe(feeds[0]?.after(4n, TAIL_PAGE));
    for (const feed of feeds) feed.close();
    expect(tails.size).toBe(0);
    expect(projector.listeners).toBe(0);
  });

  it('sends a cursor before the ring start to the log, and keeps the ring bounded by count and bytes', async () => {
    const log = memoryLog();
    const projector = hook();
    const tails = createEventTails({
      maxEvents: 10,
      maxBytes: 1 << 20,
      read: log.read,
      onProjected: projector.onProjected,
      logger,
    });
    const feed = await tails.subscribe('org', () => undefined);
    log.append('org', 25);
    projector.advance();
    await settle();
    // The ring keeps positions 16..25: after 15 is the first cursor it can answer.
    expect(feed.after(14n, 100)).toBeUndefined();
    expect(feed.after(15n, 100)?.events.map((e) => e.position)).toEqual(
      Array.from({ length: 10 }, (_, i) => String(16 + i)),
    );
    expect(feed.after(20n, 3)).toEqual({ events: expect.any(Array), more: true });
    expect(feed.after(25n, 3)).toEqual({ events: [], more: false });
    const before = feed.after(20n, 100);
    log.append('org', 1);
    projector.advance();
    await settle();
    const after = feed.after(20n, 100);
    expect(after).not.toBe(before);
    expect(after?.events.map((e) => e.position)).toEqual(['21', '22', '23', '24', '25', '26']);
    expect(before?.events.map((e) => e.position)).toEqual(['21', '22', '23', '24', '25']);
    // Each event costs at least 512 bytes: two fit in 1,100.
    const small = createEventTails({
      maxEvents: 100,
      maxBytes: 1_100,
      read: log.read,
      onProjected: projector.onProjected,
      logger,
    });
    const other = await small.subscribe('org', () => undefined);
    log.append('org', 5);
    projector.advance();
    await settle();
    expect(other.after(29n, 100)?.events.map((e) => e.position)).toEqual(['30', '31']);
    expect(other.after(28n, 100)).toBeUndefined();
    feed.close();
    other.close();
  });

  it('shares a passed role check per credential for a while, and checks again when forced or after a refusal', async () => {
    const log = memoryLog();
    let now = 0;
    const tails = createEventTails({ maxEvents: 10, maxBytes: 1 << 20, read: log.read, logger, now: () => now });
    const feed = await tails.subscribe('org', () => undefined);
    let checks = 0;
    const pass = async () => {
      checks++;
    };
    await Promise.all(Array.from({ length: 20 }, () => feed.authorize('apiKey:k', pass, false)));
    expect(checks).toBe(1);
    await feed.authorize('apiKey:other', pass, false);
    expect(checks).toBe(2);
    await feed.authorize('apiKey:k', pass, true);
    expect(checks).toBe(3);
    now += ROLE_CHECK_MS;
    await feed.authorize('apiKey:k', pass, false);
    expect(checks).toBe(4);
    const refuse = async () => {
      checks++;
      throw new Error('removed');
    };
    await expect(feed.authorize('user:u', refuse, false)).rejects.toThrow('removed');
    await expect(feed.authorize('user:u', refuse, false)).rejects.toThrow('removed');
    expect(checks).toBe(6);
    feed.close();
  });
});
