/**
 * The event stream's bound on a consumer that stops reading, over a socket-like writable that
 * takes nothing after its first bytes (as a peer with a full receive window would).
 */
import { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import type { WireEvent } from '@quorum/eventstore';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AuthedContext } from '../trpc';
import { chunkOf, createEventStreams, type EventStreamSettings } from './event-stream';

const ORG = '00000000-0000-4000-8000-00000000000a';
const USER = '00000000-0000-4000-8000-000000000001';

/** A response whose peer accepts `accept` bytes and then stops reading for good. */
class StalledResponse extends Writable {
  taken = '';
  ended = false;
  constructor(private readonly accept: number) {
    super({ highWaterMark: 1024, decodeStrings: false });
  }
  override _write(chunk: string | Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void) {
    if (this.taken.length >= this.accept) return; // never calls back: the socket stays full
    this.taken += chunk.toString();
    done();
  }
  writeHead() {
    return this;
  }
  override end(chunk?: unknown): this {
    this.ended = true;
    // Whatever the last words are, they wait behind the stalled bytes.
    if (typeof chunk === 'string') this.write(chunk);
    return this;
  }
  get socket() {
    return { setNoDelay() {} };
  }
}

function context(): AuthedContext {
  return {
    requestId: 'req-1',
    log: pino({ level: 'silent' }),
    principal: { kind: 'user', userId: USER },
    deps: { credentials: { watch: () => () => {} } },
  } as unknown as AuthedContext;
}

function memberJoined(position: number): WireEvent {
  return {
    id: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
    type: 'member.joined',
    version: 1,
    streamId: `organization-${ORG}`,
    revision: String(position),
    position: String(position),
    occurredAt: '2026-01-01T00:00:00.000Z',
    orgId: ORG,
    actor: { kind: 'user', id: USER },
    correlationId: USER,
    causationId: null,
    traceparent: null,
    data: { userId: USER, email: `u${position}@example.com`, role: 'member', invitationId: null },
  };
}

/** A feed that hands out `count` events in groups of ten as fast as they are taken, then waits until stopped. */
function feed(count: number) {
  let stopped: () => void = () => {};
  const stop = new Promise<void>((resolve) => (stopped = resolve));
  let taken = 0;
  async function* pages(): AsyncGenerator<readonly WireEvent[]> {
    for (let p = 1; p <= count; p += 10) {
      const page = Array.from({ length: Math.min(10, count - p + 1) }, (_, i) => memberJoined(p + i));
      taken += page.length;
      yield page;
    }
    await stop;
  }
  return {
    events: pages(),
    stop: () => stopped(),
    get taken() {
      return taken;
    },
  };
}

const SETTINGS: EventStreamSettings = {
  heartbeatMs: 10,
  slowConsumerMs: 100,
  maxBufferedBytes: 64 * 1024,
  retryMs: 2_000,
};

describe('a consumer that stops reading', () => {
  it('is cut off with consumer_too_slow while events flow, having been handed a bounded number of them', async () => {
    const streams = createEventStreams(SETTINGS);
    const res = new StalledResponse(4 * 1024);
    const f = feed(100_000);
    await streams.serve(context(), res as unknown as ServerResponse, ORG, f.events, 'http://q', f.stop);
    expect(res.ended).toBe(true);
    expect(res.writableLength).toBeLessThan(SETTINGS.maxBufferedBytes);
    // What the stalled socket took, and what waited in the stream's buffer: far from 100,000.
    expect(f.taken).toBeLessThan(50);
    expect(streams.size).toBe(0);
  });

  it('is cut off while the organization is quiet too: heartbeats the socket does not take are not buffered for', async () => {
    const streams = createEventStreams(SETTINGS);
    const res = new StalledResponse(200);
    const f = feed(0);
    await streams.serve(context(), res as unknown as ServerResponse, ORG, f.events, 'http://q', f.stop);
    expect(res.ended).toBe(true);
    // The heartbeats fill the 1 KiB high-water mark in about 90 beats, then the 100 ms bound runs.
    expect(res.writableLength).toBeLessThan(2 * 1024);
    expect(streams.size).toBe(0);
  });
});

describe('the text of a group of events', () => {
  it('is every event as an SSE message in order, made once per group and base URL', () => {
    const page = [memberJoined(1), memberJoined(2)];
    const chunk = chunkOf(page, 'http://q');
    const messages = chunk.split('\n\n').filter((m) => m !== '');
    expect(messages.map((m) => m.split('\n')[0])).toEqual(['id: 1', 'id: 2']);
    const envelopes = messages.map((m) => JSON.parse(m.split('\n')[2]!.slice('data: '.length)) as { type: string });
    expect(messages.map((m) => m.split('\n')[1])).toEqual(envelopes.map((e) => `event: ${e.type}`));
    expect(envelopes).toMatchObject([
      { specversion: '1.0', id: page[0]!.id, source: `/orgs/${ORG}`, sequence: '1' },
      { specversion: '1.0', id: page[1]!.id, source: `/orgs/${ORG}`, sequence: '2' },
    ]);
    expect(chunkOf(page, 'http://q')).toBe(chunk);
    expect(chunkOf(page, 'http://other')).not.toBe(chunk);
    expect(chunkOf(page, 'http://other')).toContain('http://other');
  });
});
