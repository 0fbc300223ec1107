/**
 * `events.live`: an organization's events arrive on the subscription as they are projected,
 * over SSE (what the web app uses) and over WebSocket; other organizations' events never do,
 * and callers without `events.list` on the organization are refused before the stream opens.
 */
import type { AppRouter } from '@quorum/gateway/router';
import { createTRPCClient, createWSClient, wsLink, type TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { addMember, createOrg, signUp, type TestUser } from '../support/people';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;
let owner: TestUser;
const wsClients: Array<ReturnType<typeof createWSClient>> = [];

interface SseMessage {
  event: string;
  id?: string;
  data: string;
}

/** Opens `events.live` as a browser's EventSource would (GET, text/event-stream) and reads its messages. */
function openSse(input: unknown, token: string) {
  const abort = new AbortController();
  const messages: SseMessage[] = [];
  let waiters: Array<() => void> = [];
  const response = fetch(`${q.baseUrl}/trpc/events.live?input=${encodeURIComponent(JSON.stringify(input))}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: abort.signal,
  });
  const reading = (async () => {
    const res = await response;
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message: SseMessage = { event: 'message', data: '' };
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') message.event = value;
          else if (field === 'id') message.id = value;
          else if (field === 'data') message.data += value;
        }
        messages.push(message);
        for (const w of waiters) w();
        waiters = [];
      }
    }
  })().catch((err: unknown) => {
    if (!abort.signal.aborted) throw err;
  });
  const events = () =>
    messages
      .filter((m) => m.event === 'message')
      .map((m) => JSON.parse(m.data) as { type: string; position: string; orgId: string });
  return {
    response,
    events,
    async waitFor(predicate: (e: ReturnType<typeof events>) => boolean, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events())) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(events().map((e) => e.type))}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
      return events();
    },
    async close() {
      abort.abort();
      await reading;
    },
  };
}

function wsClient(token: string) {
  const ws = createWSClient({
    url: `ws://127.0.0.1:${q.app.port}/trpc`,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: { token },
  });
  wsClients.push(ws);
  return createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
}

/** The first error (or first event) of a subscription over WebSocket. */
function firstOutcome(trpc: ReturnType<typeof wsClient>, input: { orgId: string; after?: string }) {
  return new Promise<{ error?: TRPCClientError<AppRouter>; data?: unknown }>((resolve) => {
    const sub = trpc.events.live.subscribe(input, {
      onData: (data) => {
        sub.unsubscribe();
        resolve({ data });
      },
      onError: (error) => {
        sub.unsubscribe();
        resolve({ error });
      },
    });
  });
}

beforeAll(async () => {
  q = await startTestQuorum('eventslive');
  owner = await signUp(q.http, 'live-owner');
});

afterAll(async () => {
  for (const c of wsClients) c.close();
  await q?.stop();
});

describe('events.live', () => {
  it('delivers a new event of the organization over SSE, and none of another organization', async () => {
    const { orgId, position } = await createOrg(q.http, owner, 'pro');
    const other = await createOrg(q.http, owner, 'pro');
    await q.http.query('events.list', { orgId, minPosition: other.position }, { token: owner.token });

    const sse = openSse({ orgId, after: position }, owner.token);
    expect((await sse.response).headers.get('content-type')).toContain('text/event-stream');
    try {
      await q.http.mutation('seats.purchase', { orgId: other.orgId, quantity: 3 }, { token: owner.token });
      const bought = await q.http.mutation<{ position: string }>(
        'seats.purchase',
        { orgId, quantity: 2 },
        { token: owner.token },
      );
      const events = await sse.waitFor((e) => e.some((x) => x.type === 'seats.purchased'));
      const purchase = events.find((e) => e.type === 'seats.purchased')!;
      expect(purchase).toMatchObject({ orgId, position: bought.position });
      expect(events.every((e) => e.orgId === orgId)).toBe(true);
      expect(events.every((e) => BigInt(e.position) > BigInt(position))).toBe(true);
    } finally {
      await sse.close();
    }
  });

  it('starts after the newest event when no position is given, and keeps position order', async () => {
    const { orgId, position } = await createOrg(q.http, owner, 'pro');
    await q.http.query('events.list', { orgId, minPosition: position }, { token: owner.token });
    const trpc = wsClient(owner.token);
    const received: Array<{ type: string; position: string }> = [];
    let sub: { unsubscribe(): void } | undefined;
    await new Promise<void>((resolve) => {
      sub = trpc.events.live.subscribe(
        { orgId },
        {
          onStarted: () => resolve(),
          onData: (envelope) => received.push({ type: envelope.data.type, position: envelope.data.position }),
        },
      );
    });
    try {
      const first = await q.http.mutation<{ position: string }>(
        'seats.purchase',
        { orgId, quantity: 1 },
        { token: owner.token },
      );
      const second = await q.http.mutation<{ position: string }>(
        'seats.purchase',
        { orgId, quantity: 1 },
        { token: owner.token },
      );
      await expect.poll(() => received.length, { timeout: 10_000 }).toBe(2);
      // The organization's earlier events (created, owner joined) are not replayed.
      expect(received).toEqual([
        { type: 'seats.purchased', position: first.position },
        { type: 'seats.purchased', position: second.position },
      ]);
    } finally {
      sub?.unsubscribe();
    }
  });

  it('refuses a non-member (NOT_FOUND) and a role without events.list (FORBIDDEN)', async () => {
    const { orgId } = await createOrg(q.http, owner, 'pro');
    const stranger = await signUp(q.http, 'live-stranger');
    const refused = await firstOutcome(wsClient(stranger.token), { orgId });
    expect(refused.error?.data?.code).toBe('NOT_FOUND');

    const member = await addMember(q.http, orgId, owner, 'member', 'live-member');
    const forbidden = await firstOutcome(wsClient(member.token), { orgId });
    expect(forbidden.error?.data?.code).toBe('FORBIDDEN');

    // Over SSE the refusal is an error response before any event.
    const res = await fetch(`${q.baseUrl}/trpc/events.live?input=${encodeURIComponent(JSON.stringify({ orgId }))}`, {
      headers: { authorization: `Bearer ${stranger.token}`, accept: 'text/event-stream' },
    });
    const text = await res.text();
    expect(text).toContain('NOT_FOUND');
    expect(text).not.toContain('organization.created');
  });
});
