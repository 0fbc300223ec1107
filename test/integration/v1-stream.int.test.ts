/**
 * `GET /v1/orgs/{orgId}/events/stream` over real HTTP: public envelopes as Server-Sent Events
 * that resume after a disconnect with `Last-Event-ID` without a gap or a repeat, heartbeats,
 * refusals before the stream opens, a revoked key ending the stream within seconds, and a
 * consumer that stops reading cut off with a reason instead of being buffered for.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { streamIds } from '@quorum/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually';
import { createOrg, signUp, type TestUser } from '../support/people';
import { expectPublicEvent, publicContractValidator, type PublicContractValidator } from '../support/public-contract';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';
import {
  envelopesOf,
  inviteOverV1,
  openSse,
  parseSse,
  publicEventsOverV1,
  v1Client,
  type SseStream,
} from '../support/v1';

const SLOW_CONSUMER = fileURLToPath(new URL('../clients/slow_sse_consumer.py', import.meta.url));

let q: TestQuorum;
let v1: ReturnType<typeof v1Client>;
let contract: PublicContractValidator;
let owner: TestUser;
let orgId: string;
let key: string;
const streams: SseStream[] = [];

async function apiKey(org: string, role: 'admin' | 'member', by: TestUser): Promise<{ secret: string; id: string }> {
  const created = await q.http.mutation(
    'apiKeys.create',
    { orgId: org, name: `${role} key`, role },
    { token: by.token },
  );
  await q.http.query('apiKeys.list', { orgId: org, minPosition: created.position }, { token: by.token });
  return { secret: created.secret as string, id: created.key.id as string };
}

async function stream(org: string, query: string, headers: Record<string, string>): Promise<SseStream> {
  const s = await openSse(`${q.baseUrl}/v1/orgs/${org}/events/stream${query}`, headers);
  streams.push(s);
  return s;
}

const invite = (org: string, label: string, secret = key) => inviteOverV1(v1, org, secret, label);
const allEvents = (org: string, secret: string) => publicEventsOverV1(v1, org, secret);

beforeAll(async () => {
  q = await startTestQuorum('v1stream', {
    V1_STREAM_HEARTBEAT_SECONDS: '0.2',
    V1_STREAM_SLOW_CONSUMER_SECONDS: '1',
  });
  v1 = v1Client(q.baseUrl);
  contract = publicContractValidator(q.baseUrl);
  owner = await signUp(q.http, 'v1-stream-owner');
  ({ orgId } = await createOrg(q.http, owner, 'pro'));
  key = (await apiKey(orgId, 'admin', owner)).secret;
});

afterAll(async () => {
  for (const s of streams) s.close();
  await q?.stop();
});

describe('opening the stream', () => {
  it('refuses before it opens, as JSON: another organization 404, a role without events.list 403, a bad cursor 400', async () => {
    const stranger = await signUp(q.http, 'v1-stream-stranger');
    const other = await createOrg(q.http, stranger, 'pro');
    const foreign = await stream(other.orgId, '', { 'x-api-key': key });
    expect(foreign.status).toBe(404);
    await foreign.ended;
    const member = await apiKey(orgId, 'member', owner);
    const forbidden = await stream(orgId, '', { 'x-api-key': member.secret });
    expect(forbidden.status).toBe(403);
    expect(String(forbidden.headers['content-type'])).toContain('application/json');
    const bad = await stream(orgId, '', { 'x-api-key': key, 'last-event-id': 'yesterday' });
    expect(bad.status).toBe(400);
  });

  it('sends the retry hint and heartbeats while nothing happens', async () => {
    const s = await stream(orgId, '', { 'x-api-key': key });
    expect(s.status).toBe(200);
    expect(String(s.headers['content-type'])).toMatch(/^text\/event-stream/);
    await eventually(() => expect(s.comments.filter((c) => c === 'heartbeat').length).toBeGreaterThanOrEqual(3), 5_000);
    expect(s.retry).toBe(2000);
    expect(s.messages).toEqual([]);
  });

  it('starts at the newest event by default, so only what happens next arrives', async () => {
    const s = await stream(orgId, '', { authorization: `Bearer ${owner.token}` });
    await eventually(() => expect(s.comments.length).toBeGreaterThan(0));
    const position = await invite(orgId, 'next');
    const [first] = await s.waitFor((m) => m.length >= 1);
    expect(first).toMatchObject({ event: 'quorum.member.invited.v1', id: position });
    const envelope = JSON.parse(first!.data) as { sequence: string; type: string };
    expectPublicEvent(contract, envelope);
    expect(envelope.sequence).toBe(first!.id);
    expect(envelope.type).toBe(first!.event);
  });
});

describe('resuming', () => {
  it('after a disconnect, Last-Event-ID resumes with no gap and no repeat', async () => {
    const boss = await signUp(q.http, 'v1-resume');
    const { orgId: org } = await createOrg(q.http, boss, 'pro');
    const own = await apiKey(org, 'admin', boss);
    for (let i = 0; i < 5; i++) await invite(org, `before-${i}`, own.secret);

    const first = await stream(org, '?from=start', { 'x-api-key': own.secret });
    await first.waitFor((m) => m.length >= 3);
    first.close();
    const seen = envelopesOf(first.messages);
    const lastId = first.messages.at(-1)!.id!;
    expect(lastId).toBe(seen.at(-1)!.sequence);

    // More happens while the consumer is away.
    const morePositions: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await q.http.mutation(
        'members.invite',
        { orgId: org, email: `away-${i}-${randomUUID().slice(0, 6)}@example.com`, role: 'member' },
        { apiKey: own.secret },
      );
      morePositions.push(res.position as string);
    }
    await q.http.query('members.list', { orgId: org, minPosition: morePositions.at(-1) }, { token: boss.token });
    const expected = await allEvents(org, own.secret);

    const second = await stream(org, '', { 'x-api-key': own.secret, 'last-event-id': lastId });
    await second.waitFor((m) => m.at(-1)?.id === expected.at(-1)!.sequence);
    const resumed = envelopesOf(second.messages);
    for (const e of [...seen, ...resumed]) expectPublicEvent(contract, e);
    expect([...seen, ...resumed].map((e) => e.id)).toEqual(expected.map((e) => e.id));
    expect(resumed[0]!.sequence).not.toBe(lastId);

    // `after` takes precedence over Last-Event-ID; `after=0` replays everything.
    const replay = await stream(org, '?after=0', { 'x-api-key': own.secret, 'last-event-id': lastId });
    await replay.waitFor((m) => m.length >= expected.length);
    expect(envelopesOf(replay.messages).map((e) => e.id)).toEqual(expected.map((e) => e.id));
  });
});

describe('ending the stream', () => {
  it('ends within seconds, with the reason, when its API key is revoked', async () => {
    const doomed = await apiKey(orgId, 'admin', owner);
    const s = await stream(orgId, '', { 'x-api-key': doomed.secret });
    await eventually(() => expect(s.comments.length).toBeGreaterThan(0));
    const revokedAt = Date.now();
    await q.http.mutation('apiKeys.revoke', { orgId, keyId: doomed.id }, { token: owner.token });
    await s.waitFor((m) => m.some((x) => x.event === 'error'), 5_000);
    await s.ended;
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
    const error = JSON.parse(s.messages.at(-1)!.data) as { reason: string; message: string };
    expect(error.reason).toMatch(/api_key_revoked|unauthorized/);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('cuts off a consumer that stops reading, with the reason, without buffering what it did not take', async () => {
    const boss = await signUp(q.http, 'v1-slow');
    const { orgId: org } = await createOrg(q.http, boss, 'pro');
    const own = await apiKey(org, 'admin', boss);
    const consumer = startSlowConsumer(`/v1/orgs/${org}/events/stream?from=start`, own.secret);
    expect(await consumer.head).toEqual({ status: 200 });
    const openWithConsumer = q.app.gateway.http.openEventStreams;

    // Well over what the kernel holds between the two sockets (the server's send buffer grows to
    // 4 MiB on Linux, and 6,000 events fitted in it on some runs), appended at once as a busy
    // organization's would be: long addresses make each envelope about 0.8 KB, 10 MB in all.
    const total = 12_000;
    const batch = 2_000;
    const expiresAt = new Date(Date.now() + 7 * 86_400_000).toISOString();
    for (let b = 0; b < total / batch; b++) {
      await q.app.store.appendToStream(
        streamIds.organization(org),
        Array.from({ length: batch }, (_, i) => ({
          id: randomUUID(),
          type: 'member.invited',
          version: 1,
          data: {
            invitationId: randomUUID(),
            email: `${'slow'.repeat(14)}${b * batch + i}@${'d'.repeat(60)}.${'e'.repeat(60)}.example.com`,
            role: 'member',
            invitedBy: boss.userId,
            expiresAt,
          },
          metadata: {
            orgId: org,
            actor: { kind: 'user' as const, id: boss.userId },
            correlationId: randomUUID(),
            causationId: null,
          },
        })),
      );
    }
    // As the events are projected the stream fills the socket, waits on it past its bound (1 s
    // here) and gives up on it. Its last words wait behind what the consumer did not read, for
    // a grace of 10 s before the socket is dropped: read as soon as it gives up.
    await eventually(() => expect(q.app.gateway.http.openEventStreams).toBe(openWithConsumer - 1), 120_000, 50);
    const { body, bytes, closed } = await consumer.readRest();
    const { messages } = parseSse(body);
    expect(closed, `the server kept the stream open; its last messages: ${JSON.stringify(messages.slice(-2))}`).toBe(
      true,
    );
    const final = messages.at(-1)!;
    expect(final.event).toBe('error');
    expect(JSON.parse(final.data)).toMatchObject({ reason: 'consumer_too_slow' });
    const received = envelopesOf(messages);
    // What it got is the start of the log, in order, once each; the rest (megabytes) was never
    // taken from the log for it, let alone kept in memory.
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(total);
    expect(new Set(received.map((e) => e.sequence)).size).toBe(received.length);
    // At most what the kernel held: the server's send buffer (4 MiB at most on Linux) and the
    // consumer's small receive buffer.
    expect(bytes).toBeLessThan(4.5 * 1024 * 1024);
    for (const e of received.slice(-3)) expectPublicEvent(contract, e);
    // Projecting thousands of events on a busy machine takes a while.
  }, 240_000);
});

/** `test/clients/slow_sse_consumer.py`: opens the stream and reads nothing until told to. */
function startSlowConsumer(path: string, secret: string) {
  const child = spawn('python3', [SLOW_CONSUMER, '127.0.0.1', String(q.app.port), path, secret], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const nextLine = async () => {
    const { value, done } = await iterator.next();
    if (done) throw new Error('the slow consumer exited early');
    return JSON.parse(value as string) as Record<string, unknown>;
  };
  return {
    head: nextLine(),
    async readRest(): Promise<{ body: string; bytes: number; closed: boolean }> {
      child.stdin.write('go\n');
      const rest = (await nextLine()) as { body: string; bytes: number; closed: boolean };
      await new Promise((r) => child.once('exit', r));
      return rest;
    },
  };
}
