/**
 * The contract every `EventStore` adapter passes. Tests isolate themselves with fresh stream
 * ids and event types per run, so the suite can share a database with other tests.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuplicateEventIdError, InvalidAppendError, WrongExpectedRevisionError } from '../errors';
import type { EventStore, NewEvent, RecordedEvent } from '../event-store';

export interface EventStoreContractFixture {
  store: EventStore;
  /** Releases whatever the factory opened. */
  cleanup?: () => Promise<void>;
}

export interface EventStoreContractOptions {
  /** Concurrent appenders in the gap test (at least 8). */
  appenders?: number;
  /** Events written in the gap test (at least 10,000). */
  totalEvents?: number;
}

export function runEventStoreContract(
  name: string,
  factory: () => Promise<EventStoreContractFixture>,
  options: EventStoreContractOptions = {},
): void {
  describe(`EventStore contract: ${name}`, () => {
    let fixture: EventStoreContractFixture;
    let store: EventStore;
    const run = randomUUID().slice(0, 8);
    const stream = (label: string) => `contract_${label}-${randomUUID()}`;
    const type = (label: string) => `contract.${run}.${label}`;
    /**
     * Waits until $all shows `position` and everything before it: a store may hold its read
     * horizon back while any transaction older than the append is open (on PostgreSQL, anywhere
     * on the cluster, another suite's included). Resolves with the head it saw.
     */
    const visible = async (position: bigint): Promise<bigint> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const head = await store.headPosition();
        if (head >= position || Date.now() > deadline) return head;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const event = (label: string, data: Record<string, unknown> = {}): NewEvent => ({
      id: randomUUID(),
      type: type(label),
      version: 1,
      data,
      metadata: {
        orgId: 'org-contract',
        actor: { kind: 'system', id: 'contract' },
        correlationId: randomUUID(),
        causationId: null,
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    });

    beforeAll(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterAll(async () => {
      await store?.close();
      await fixture?.cleanup?.();
    });

    describe('expected revision', () => {
      it('no_stream creates a stream and refuses an existing one', async () => {
        const id = stream('nostream');
        const first = await store.appendToStream(id, [event('a'), event('b')], { expectedRevision: 'no_stream' });
        expect(first.nextExpectedRevision).toBe(1n);
        const err = await store
          .appendToStream(id, [event('c')], { expectedRevision: 'no_stream' })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WrongExpectedRevisionError);
        expect((err as WrongExpectedRevisionError).actual).toBe(1n);
        expect(await store.readStream(id)).toHaveLength(2);
      });

      it('an exact revision appends once and the stale writer gets a conflict', async () => {
        const id = stream('exact');
        await store.appendToStream(id, [event('a')], { expectedRevision: 'no_stream' });
        const ok = await store.appendToStream(id, [event('b')], { expectedRevision: 0n });
        expect(ok.nextExpectedRevision).toBe(1n);
        const err = await store.appendToStream(id, [event('c')], { expectedRevision: 0n }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WrongExpectedRevisionError);
        expect(err).toMatchObject({ streamId: id, expected: 0n, actual: 1n });
        const missing = await store
          .appendToStream(stream('missing'), [event('x')], { expectedRevision: 3n })
          .catch((e: unknown) => e);
        expect(missing).toBeInstanceOf(WrongExpectedRevisionError);
        expect((missing as WrongExpectedRevisionError).actual).toBeUndefined();
      });

      it('any appends whatever the stream holds; stream_exists needs the stream', async () => {
        const id = stream('any');
        await store.appendToStream(id, [event('a')], { expectedRevision: 'any' });
        const second = await store.appendToStream(id, [event('b'), event('c')]);
        expect(second.nextExpectedRevision).toBe(2n);
        const exists = await store.appendToStream(id, [event('d')], { expectedRevision: 'stream_exists' });
        expect(exists.nextExpectedRevision).toBe(3n);
        const err = await store
          .appendToStream(stream('absent'), [event('x')], { expectedRevision: 'stream_exists' })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WrongExpectedRevisionError);
      });

      it('of concurrent writers at the same revision exactly one succeeds', async () => {
        const id = stream('race');
        await store.appendToStream(id, [event('a')], { expectedRevision: 'no_stream' });
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => store.appendToStream(id, [event(`w${i}`)], { expectedRevision: 0n })),
        );
        const ok = results.filter((r) => r.status === 'fulfilled');
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(ok).toHaveLength(1);
        expect(failed).toHaveLength(7);
        for (const f of failed) expect(f.reason).toBeInstanceOf(WrongExpectedRevisionError);
        expect(await store.readStream(id)).toHaveLength(2);
      });
    });

    describe('guards on other streams', () => {
      it('appends while each guard stream is at its revision, and refuses once one has moved, appending nothing', async () => {
        const target = stream('guarded');
        const org = stream('guard');
        await store.appendToStream(org, [event('g0'), event('g1')], { expectedRevision: 'no_stream' });
        const absent = stream('guard-absent');
        const ok = await store.appendToStream(target, [event('a')], {
          expectedRevision: 'no_stream',
          guards: [
            { streamId: org, revision: 1n },
            { streamId: absent, revision: 'no_stream' },
          ],
        });
        expect(ok.nextExpectedRevision).toBe(0n);

        await store.appendToStream(org, [event('g2')], { expectedRevision: 1n });
        const stale = await store
          .appendToStream(target, [event('b')], { expectedRevision: 0n, guards: [{ streamId: org, revision: 1n }] })
          .catch((e: unknown) => e);
        expect(stale).toBeInstanceOf(WrongExpectedRevisionError);
        expect(stale).toMatchObject({ streamId: org, expected: 1n, actual: 2n });

        await store.appendToStream(absent, [event('x')]);
        const gone = await store
          .appendToStream(target, [event('c')], {
            expectedRevision: 0n,
            guards: [{ streamId: absent, revision: 'no_stream' }],
          })
          .catch((e: unknown) => e);
        expect(gone).toMatchObject({ streamId: absent, expected: 'no_stream', actual: 0n });
        expect((await store.readStream(target)).map((e) => e.type)).toEqual([type('a')]);
      });

      it('refuses a stream guarding its own append', async () => {
        const id = stream('self');
        const err = await store
          .appendToStream(id, [event('a')], { guards: [{ streamId: id, revision: 'no_stream' }] })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InvalidAppendError);
        expect(await store.readStream(id)).toEqual([]);
      });
    });

    describe('idempotency', () => {
      it('re-appending the same event ids appends nothing and answers the same result', async () => {
        const id = stream('idem');
        const batch = [event('a'), event('b')];
        const first = await store.appendToStream(id, batch, { expectedRevision: 'no_stream' });
        const again = await store.appendToStream(id, batch, { expectedRevision: 'no_stream' });
        expect(again).toEqual(first);
        const againAny = await store.appendToStream(id, batch);
        expect(againAny).toEqual(first);
        expect(await store.readStream(id)).toHaveLength(2);
        await visible(first.position);
        const all = await store.readAll({ types: [type('a'), type('b')], maxCount: 10_000 });
        expect(all.filter((e) => e.streamId === id)).toHaveLength(2);
      });

      it('the same ids appended concurrently are stored once', async () => {
        const id = stream('idem-race');
        const batch = [event('a')];
        const results = await Promise.allSettled(Array.from({ length: 4 }, () => store.appendToStream(id, batch)));
        expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
        expect(await store.readStream(id)).toHaveLength(1);
      });

      it('a batch mixing stored and new ids is refused and appends nothing', async () => {
        const id = stream('idem-mixed');
        const stored = event('a');
        await store.appendToStream(id, [stored]);
        const err = await store.appendToStream(id, [stored, event('b')]).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Error);
        expect(err).toBeInstanceOf(DuplicateEventIdError);
        expect(await store.readStream(id)).toHaveLength(1);
      });
    });

    describe('reading a stream', () => {
      it('reads forwards and backwards, from a revision, with a count', async () => {
        const id = stream('read');
        const batch = Array.from({ length: 5 }, (_, i) => event('r', { i }));
        await store.appendToStream(id, batch, { expectedRevision: 'no_stream' });
        const forwards = await store.readStream(id);
        expect(forwards.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n]);
        expect(forwards.map((e) => e.id)).toEqual(batch.map((e) => e.id));
        const backwards = await store.readStream(id, { direction: 'backwards' });
        expect(backwards.map((e) => e.revision)).toEqual([4n, 3n, 2n, 1n, 0n]);
        const middle = await store.readStream(id, { fromRevision: 1n, maxCount: 2 });
        expect(middle.map((e) => (e.data as { i: number }).i)).toEqual([1, 2]);
        const lastTwo = await store.readStream(id, { direction: 'backwards', fromRevision: 3n, maxCount: 2 });
        expect(lastTwo.map((e) => e.revision)).toEqual([3n, 2n]);
      });

      it('keeps the envelope: data, metadata, stream, version and time', async () => {
        const id = stream('envelope');
        const e = event('env', { nested: { n: 1, s: 'é' }, list: [1, 2] });
        const before = Date.now();
        await store.appendToStream(id, [e]);
        const [read] = await store.readStream(id);
        expect(read).toMatchObject({
          id: e.id,
          type: e.type,
          version: 1,
          data: e.data,
          metadata: e.metadata,
          streamId: id,
          revision: 0n,
        });
        expect(read!.occurredAt).toBeInstanceOf(Date);
        expect(Math.abs(read!.occurredAt.getTime() - before)).toBeLessThan(60_000);
      });

      it('answers an empty list for a stream that does not exist', async () => {
        expect(await store.readStream(stream('nothing'))).toEqual([]);
      });
    });

    describe('$all', () => {
      it('reads from a position with a type filter, in position order', async () => {
        const a = stream('all-a');
        const b = stream('all-b');
        await store.appendToStream(a, [event('keep', { n: 1 }), event('drop')]);
        await visible((await store.appendToStream(b, [event('keep', { n: 2 }), event('keep', { n: 3 })])).position);
        const kept = await store.readAll({ types: [type('keep')], maxCount: 100 });
        expect(kept.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3]);
        expect(kept.every((e, i) => i === 0 || e.position > kept[i - 1]!.position)).toBe(true);
        const afterFirst = await store.readAll({ fromPosition: kept[0]!.position, types: [type('keep')] });
        expect(afterFirst.map((e) => (e.data as { n: number }).n)).toEqual([2, 3]);
        const limited = await store.readAll({ types: [type('keep')], maxCount: 2 });
        expect(limited).toHaveLength(2);
        const both = await store.readAll({ types: [type('keep'), type('drop')] });
        expect(both).toHaveLength(4);
        expect(await store.readAll({ types: [] })).toEqual([]);
      });

      it('reports the head position', async () => {
        const result = await store.appendToStream(stream('head'), [event('h')]);
        // At once, or as soon as transactions older than the append end.
        expect(await visible(result.position)).toBeGreaterThanOrEqual(result.position);
      });

      it('subscribes from a position: catch-up, then live, then close', async () => {
        const t = type('sub');
        const id = stream('sub');
        const first = await store.appendToStream(id, [event('sub', { n: 0 }), event('sub', { n: 1 })]);
        await visible(first.position);
        const startAfter = (await store.readAll({ types: [t] }))[0]!.position;
        const sub = store.subscribeToAll({ fromPosition: startAfter, types: [t] });
        const seen: number[] = [];
        const done = (async () => {
          for await (const e of sub) {
            seen.push((e.data as { n: number }).n);
            if (seen.length === 2) break;
          }
        })();
        await store.appendToStream(id, [event('sub', { n: 2 })], { expectedRevision: first.nextExpectedRevision });
        await done;
        expect(seen).toEqual([1, 2]);
        await sub.close();
      });

      it('a closed subscription ends its pending iteration', async () => {
        const sub = store.subscribeToAll({ types: [type('never')] });
        const iterator = sub[Symbol.asyncIterator]();
        const pending = iterator.next();
        await new Promise((r) => setTimeout(r, 50));
        await sub.close();
        await expect(pending).resolves.toMatchObject({ done: true });
      });
    });

    describe('concurrent appenders and a tailing subscriber', () => {
      const appenders = Math.max(8, options.appenders ?? 8);
      const total = Math.max(10_000, options.totalEvents ?? 10_000);

      it(`${appenders} appenders × ${total} events: the subscriber loses and duplicates nothing`, async () => {
        const t = type('gap');
        const sub = store.subscribeToAll({ types: [t] });
        const received: RecordedEvent[] = [];
        const tail = (async () => {
          for await (const e of sub) {
            received.push(e);
            if (received.length === total) break;
          }
        })();

        const written: string[] = [];
        const perAppender = Math.ceil(total / appenders);
        await Promise.all(
          Array.from({ length: appenders }, async (_, w) => {
            const id = stream(`gap${w}`);
            let revision: bigint | 'no_stream' = 'no_stream';
            for (let i = 0; i < perAppender && w * perAppender + i < total;) {
              // Mostly single events, some small batches, as commands produce them.
              const size = Math.min(i % 7 === 0 ? 3 : 1, perAppender - i, total - (w * perAppender + i));
              const batch = Array.from({ length: size }, (_, k) => event('gap', { w, i: i + k }));
              const r = await store.appendToStream(id, batch, { expectedRevision: revision });
              revision = r.nextExpectedRevision;
              for (const e of batch) written.push(e.id);
              i += size;
            }
          }),
        );

        const timeout = setTimeout(() => void sub.close(), 60_000);
        await tail;
        clearTimeout(timeout);
        await sub.close();

        expect(written).toHaveLength(total);
        expect(received).toHaveLength(total);
        const ids = new Set(received.map((e) => e.id));
        expect(ids.size).toBe(total);
        for (const id of written) expect(ids.has(id)).toBe(true);
        for (let i = 1; i < received.length; i++) expect(received[i]!.position > received[i - 1]!.position).toBe(true);
        // Per stream, revisions arrive in order with no holes.
        const byStream = new Map<string, bigint[]>();
        for (const e of received) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e.revision]);
        for (const revisions of byStream.values()) expect(revisions).toEqual(revisions.map((_, i) => BigInt(i)));
      });
    });
  });
}
