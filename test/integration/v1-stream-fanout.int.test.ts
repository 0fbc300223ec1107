/**
 * Many `/v1` event streams of one organization over real HTTP, served from the organization's
 * shared tail: all get the same events in the same order; a stream that resumes from before
 * the tail's ring (kept small here, 12 events) pages the log and then joins the ring with no
 * gap and no repeat; a stream far behind catches up from the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually';
import { createOrg, signUp, type TestUser } from '../support/people';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';
import { envelopesOf, inviteOverV1, openSse, publicEventsOverV1, v1Client, type SseStream } from '../support/v1';

const RING = 12;

let q: TestQuorum;
let v1: ReturnType<typeof v1Client>;
let owner: TestUser;
const streams: SseStream[] = [];

async function adminKey(org: string, by: TestUser): Promise<string> {
  const created = await q.http.mutation(
    'apiKeys.create',
    { orgId: org, name: 'fan-out', role: 'admin' },
    { token: by.token },
  );
  await q.http.query('apiKeys.list', { orgId: org, minPosition: created.position }, { token: by.token });
  return created.secret as string;
}

async function stream(org: string, query: string, headers: Record<string, string>): Promise<SseStream> {
  const s = await openSse(`${q.baseUrl}/v1/orgs/${org}/events/stream${query}`, headers);
  streams.push(s);
  return s;
}

const invite = (org: string, secret: string, label: string) => inviteOverV1(v1, org, secret, label);
const allEvents = (org: string, secret: string) => publicEventsOverV1(v1, org, secret);

/** Counts queries of `orgId`'s event log from now (the gateway's read model, wrapped in place). */
function countEventLogQueries(orgId: string) {
  const read = q.app.gateway.deps.read;
  const original = read.events;
  const counter = {
    count: 0,
    stop() {
      read.events = original;
    },
  };
  read.events = function (this: typeof read, org, query) {
    if (org === orgId) counter.count++;
    return original.call(this, org, query);
  };
  return counter;
}

beforeAll(async () => {
  q = await startTestQuorum('v1fanout', { EVENT_TAIL_MAX_EVENTS: String(RING), V1_STREAM_HEARTBEAT_SECONDS: '0.2' });
  v1 = v1Client(q.baseUrl);
  owner = await signUp(q.http, 'v1-fanout-owner');
});

afterAll(async () => {
  for (const s of streams) s.close();
  await q?.stop();
});

describe('many streams of one organization', () => {
  it('all receive the same events in the same order, with no gap and no repeat', async () => {
    const { orgId } = await createOrg(q.http, owner, 'pro');
    const key = await adminKey(orgId, owner);
    const many = await Promise.all(Array.from({ length: 50 }, () => stream(orgId, '', { 'x-api-key': key })));
    await eventually(() => {
      for (const s of many) expect(s.comments.length).toBeGreaterThan(0);
    });
    const queries = countEventLogQueries(orgId);
    let last = '';
    for (let i = 0; i < 20; i++) last = await invite(orgId, key, `fan-${i}`);
    for (const s of many) await s.waitFor((m) => m.at(-1)?.id === last, 20_000);
    const first = envelopesOf(many[0]!.messages).map((e) => e.id);
    expect(first.length).toBeGreaterThanOrEqual(20);
    const expected = await allEvents(orgId, key);
    expect(expected.map((e) => e.id).slice(-first.length)).toEqual(first);
    for (const s of many) expect(envelopesOf(s.messages).map((e) => e.id)).toEqual(first);
    // The tail reads once per projection advance (an invitation is one or two); each stream
    // querying for itself would make 50 times that.
    expect(queries.count).toBeGreaterThan(0);
    expect(queries.count).toBeLessThan(20 * 3);
    queries.stop();
  });
});

describe('the ring boundary', () => {
  it('a stream resuming from before the ring pages the log, then reads the ring, with no gap and no repeat', async () => {
    const { orgId } = await createOrg(q.http, owner, 'pro');
    const key = await adminKey(orgId, owner);
    // A stream held open keeps the organization's tail running while the other is away.
    const holder = await stream(orgId, '', { 'x-api-key': key });
    await eventually(() => expect(holder.comments.length).toBeGreaterThan(0));
    for (let i = 0; i < 3; i++) await invite(orgId, key, `before-${i}`);
    const away = await stream(orgId, '?from=start', { 'x-api-key': key });
    await away.waitFor((m) => m.length >= 2);
    away.close();
    const lastId = away.messages.at(-1)!.id!;

    // Far more than the ring holds happens while it is away.
    let last = '';
    for (let i = 0; i < RING * 2; i++) last = await invite(orgId, key, `away-${i}`);
    await holder.waitFor((m) => m.at(-1)?.id === last, 20_000);
    const expected = await allEvents(orgId, key);

    const back = await stream(orgId, '', { 'x-api-key': key, 'last-event-id': lastId });
    await back.waitFor((m) => m.at(-1)?.id === last, 20_000);
    // Then live again: the next events arrive from the ring.
    const next = await invite(orgId, key, 'after');
    await back.waitFor((m) => m.at(-1)?.id === next, 20_000);
    const seen = [...envelopesOf(away.messages), ...envelopesOf(back.messages)].map((e) => e.id);
    const all = await allEvents(orgId, key);
    expect(all.slice(0, expected.length)).toEqual(expected);
    expect(seen).toEqual(all.map((e) => e.id));
  });

  it('a stream starting far behind catches up from the log', async () => {
    const { orgId } = await createOrg(q.http, owner, 'pro');
    const key = await adminKey(orgId, owner);
    const holder = await stream(orgId, '', { 'x-api-key': key });
    await eventually(() => expect(holder.comments.length).toBeGreaterThan(0));
    let last = '';
    for (let i = 0; i < RING * 3; i++) last = await invite(orgId, key, `early-${i}`);
    await holder.waitFor((m) => m.at(-1)?.id === last, 20_000);
    const replay = await stream(orgId, '?from=start', { 'x-api-key': key });
    await replay.waitFor((m) => m.at(-1)?.id === last, 20_000);
    const expected = await allEvents(orgId, key);
    expect(envelopesOf(replay.messages).map((e) => e.id)).toEqual(expected.map((e) => e.id));
    const live = envelopesOf(holder.messages).map((e) => e.id);
    expect(live.length).toBeGreaterThanOrEqual(RING * 3);
    expect(live).toEqual(expected.map((e) => e.id).slice(-live.length));
  });
});
