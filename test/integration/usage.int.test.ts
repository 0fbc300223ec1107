/**
 * Metered usage read over HTTP against the real servers: usage events appended to the store (as
 * the metering consumer would) are projected and read back as totals (`usage.summary`), as
 * pages of events (`usage.records`), and as CSV (`GET /usage/export.csv`); only an
 * organization's owners and billing members see them.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, type CallOptions } from '../support/http-client';
import { addMember, createOrg, signUp, type TestUser } from '../support/people';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';
import {
  appendUsage,
  getRoute,
  parseCsv,
  routeFailure,
  type UsageInterval,
  type UsageRecordedData,
} from '../support/usage';

const PERIOD = '202503';
const EXPORT = '/usage/export.csv';

let q: TestQuorum;
let owner: TestUser;
let orgId: string;
const users = {} as Record<'admin' | 'billing' | 'host' | 'member', TestUser>;
const keys = {} as Record<'admin' | 'billing', string>;
let appended: Array<{ id: string; data: UsageRecordedData }>;
let minPosition: string;
const hosts = [randomUUID(), randomUUID()];
const sessions = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];

const as = (u: TestUser): CallOptions => ({ token: u.token });
const ceilMinutes = (s: number) => Math.ceil(s / 60);

/** More intervals than one export page holds, over both meters, 28 days, 2 hosts and 4 meetings. */
function month(period: string, n: number): UsageInterval[] {
  const year = Number(period.slice(0, 4));
  const monthIndex = Number(period.slice(4)) - 1;
  return Array.from({ length: n }, (_, i) => ({
    meter: i % 3 === 0 ? 'meeting_minutes' : 'participant_minutes',
    sessionId: sessions[i % 4]!,
    hostUserId: hosts[i % 2]!,
    from: new Date(Date.UTC(year, monthIndex, 1 + (i % 28), i % 24, (i * 5) % 60, 0)).toISOString(),
    seconds: 1 + ((i * 37) % 300),
  }));
}

/** Seconds and records per meter and key, from the appended events. */
function expected(key: (d: UsageRecordedData) => string) {
  const out = new Map<string, { key: string; meter: string; seconds: number; records: number }>();
  for (const { data } of appended) {
    const k = `${key(data)}|${data.meter}`;
    const row = out.get(k) ?? { key: key(data), meter: data.meter, seconds: 0, records: 0 };
    out.set(k, { ...row, seconds: row.seconds + data.seconds, records: row.records + 1 });
  }
  return [...out.values()]
    .sort((a, b) => (a.key === b.key ? a.meter.localeCompare(b.meter) : a.key < b.key ? -1 : 1))
    .map((r) => ({ ...r, minutes: ceilMinutes(r.seconds) }));
}

beforeAll(async () => {
  q = await startTestQuorum('usage');
  owner = await signUp(q.http, 'owner');
  ({ orgId } = await createOrg(q.http, owner, 'pro'));
  for (const role of ['admin', 'billing', 'host', 'member'] as const)
    users[role] = await addMember(q.http, orgId, owner, role);
  for (const role of ['admin', 'billing'] as const)
    keys[role] = (await q.http.mutation('apiKeys.create', { orgId, name: `${role} key`, role }, as(owner))).secret;
  const march = await appendUsage(q.app.store, orgId, month(PERIOD, 1_234));
  // Another month of the same organization and the same month of another: neither may leak in.
  await appendUsage(q.app.store, orgId, month('202502', 40));
  const other = await appendUsage(q.app.store, randomUUID(), month(PERIOD, 40));
  appended = march.events;
  minPosition = BigInt(march.position) > BigInt(other.position) ? march.position : other.position;
}, 120_000);

afterAll(async () => {
  await q?.stop();
});

describe('usage.summary', () => {
  it.each([
    ['day', (d: UsageRecordedData) => d.from.slice(0, 10)],
    ['meter', (d: UsageRecordedData) => d.meter],
    ['host', (d: UsageRecordedData) => d.hostUserId],
    ['meeting', (d: UsageRecordedData) => d.sessionId],
  ] as const)('by %s equals the sum of the appended intervals', async (groupBy, key) => {
    const summary = await q.http.query('usage.summary', { orgId, period: PERIOD, groupBy, minPosition }, as(owner));
    expect(summary.rows).toEqual(expected(key));
    const totals = ['participant_minutes', 'meeting_minutes'].map((meter) => {
      const of = appended.filter((e) => e.data.meter === meter);
      const seconds = of.reduce((n, e) => n + e.data.seconds, 0);
      return { meter, seconds, minutes: ceilMinutes(seconds), records: of.length };
    });
    expect(summary.totals).toEqual(totals);
    expect(summary).toMatchObject({ orgId, period: PERIOD, groupBy, thresholds: [] });
  });

  it('answers a month without usage with zero totals, and billing members may read it', async () => {
    const summary = await q.http.query('usage.summary', { orgId, period: '202501' }, as(users.billing));
    expect(summary.rows).toEqual([]);
    expect(summary.totals).toEqual([
      { meter: 'participant_minutes', seconds: 0, minutes: 0, records: 0 },
      { meter: 'meeting_minutes', seconds: 0, minutes: 0, records: 0 },
    ]);
  });
});

describe('usage.records', () => {
  it('pages through every usage event of the month exactly once, with its interval and sources', async () => {
    const seen: Array<{ eventId: string; sources: string[]; from: string; to: string; seconds: number }> = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await q.http.query(
        'usage.records',
        { orgId, period: PERIOD, limit: 100, minPosition, ...(cursor ? { cursor } : {}) },
        as(users.billing),
      );
      expect(page.records.length).toBeLessThanOrEqual(100);
      seen.push(...page.records);
      cursor = page.next ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(13);
    expect(seen.map((r) => r.eventId)).toEqual(appended.map((e) => e.id));
    const byId = new Map(appended.map((e) => [e.id, e.data]));
    for (const r of seen) {
      const d = byId.get(r.eventId)!;
      expect({ sources: r.sources, from: r.from, to: r.to, seconds: r.seconds }).toEqual({
        sources: d.sources,
        from: d.from,
        to: d.to,
        seconds: d.seconds,
      });
    }
  });

  it('drills down from a summary row to its events by day, meter, host and meeting', async () => {
    const day = appended[5]!.data.from.slice(0, 10);
    const filter = { meter: 'participant_minutes', day, hostUserId: hosts[1]!, sessionId: sessions[1]! } as const;
    const page = await q.http.query(
      'usage.records',
      { orgId, period: PERIOD, ...filter, limit: 500, minPosition },
      as(owner),
    );
    const want = appended.filter(
      (e) =>
        e.data.meter === filter.meter &&
        e.data.from.startsWith(day) &&
        e.data.hostUserId === filter.hostUserId &&
        e.data.sessionId === filter.sessionId,
    );
    expect(want.length).toBeGreaterThan(0);
    expect(page.records.map((r: { eventId: string }) => r.eventId)).toEqual(want.map((e) => e.id));
    expect(page.next).toBeNull();
  });

  it('refuses a period in the future and a day outside the period with BAD_REQUEST and a reason', async () => {
    const next = new Date();
    next.setUTCMonth(next.getUTCMonth() + 1, 1);
    const future = `${next.getUTCFullYear()}${String(next.getUTCMonth() + 1).padStart(2, '0')}`;
    for (const path of ['usage.summary', 'usage.records']) {
      const f = await failure(q.http.query(path, { orgId, period: future }, as(owner)));
      expect(f, path).toMatchObject({ status: 400, code: 'BAD_REQUEST', reason: 'usage.period_in_future' });
    }
    const f = await failure(q.http.query('usage.records', { orgId, period: PERIOD, day: '2025-04-01' }, as(owner)));
    expect(f).toMatchObject({ status: 400, code: 'BAD_REQUEST', reason: 'usage.day_outside_period' });
    // A stranger learns nothing from the period check: the organization comes first.
    const stranger = await signUp(q.http, 'stranger');
    const g = await failure(q.http.query('usage.summary', { orgId, period: future }, as(stranger)));
    expect(g).toMatchObject({ status: 404, reason: 'organization.not_found' });
  });
});

describe('GET /usage/export.csv', () => {
  it('streams one RFC 4180 row per usage event, with the event ids, under a header', async () => {
    const res = await getRoute(q.baseUrl, EXPORT, { orgId, period: PERIOD, minPosition }, as(owner));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="usage-${orgId}-${PERIOD}.csv"`);
    const text = await res.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([
      'event_id',
      'position',
      'period',
      'meter',
      'day',
      'from',
      'to',
      'seconds',
      'session_id',
      'host_user_id',
      'participant_id',
      'stint',
      'sources',
    ]);
    expect(rows).toHaveLength(appended.length);
    expect(rows.map((r) => r[0])).toEqual(appended.map((e) => e.id));
    const positions = rows.map((r) => BigInt(r[1]!));
    expect([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(positions);
    for (const [i, r] of rows.entries()) {
      const d = appended[i]!.data;
      expect(r.slice(2)).toEqual([
        PERIOD,
        d.meter,
        d.from.slice(0, 10),
        d.from,
        d.to,
        String(d.seconds),
        d.sessionId,
        d.hostUserId,
        d.participantId ?? '',
        d.stint,
        d.sources.join(' '),
      ]);
    }
  });

  it('answers a billing API key, and an empty month with the header only', async () => {
    const res = await getRoute(q.baseUrl, EXPORT, { orgId, period: '202501' }, { apiKey: keys.billing });
    expect(res.status).toBe(200);
    expect(parseCsv(await res.text())).toHaveLength(1);
  });

  it('refuses other roles, strangers, other organizations, anonymous callers and bad queries as the procedures do', async () => {
    for (const creds of [as(users.admin), as(users.host), as(users.member), { apiKey: keys.admin }]) {
      const f = await routeFailure(await getRoute(q.baseUrl, EXPORT, { orgId, period: PERIOD }, creds));
      expect(f).toMatchObject({ status: 403, code: 'FORBIDDEN', reason: 'auth.forbidden' });
      expect(f.message).toContain('usage.records');
    }
    const otherOwner = await signUp(q.http, 'other-owner');
    const other = await createOrg(q.http, otherOwner, 'pro');
    for (const [creds, target] of [
      [as(otherOwner), orgId],
      [{ apiKey: keys.billing }, other.orgId],
    ] as const) {
      const f = await routeFailure(await getRoute(q.baseUrl, EXPORT, { orgId: target, period: PERIOD }, creds));
      expect(f).toMatchObject({ status: 404, code: 'NOT_FOUND', reason: 'organization.not_found' });
    }
    expect(await routeFailure(await getRoute(q.baseUrl, EXPORT, { orgId, period: PERIOD }))).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
    });
    const bad = await routeFailure(await getRoute(q.baseUrl, EXPORT, { orgId, period: '2025-13' }, as(owner)));
    expect(bad).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(bad.fieldErrors?.map((e) => e.path)).toEqual(['period']);
    const missing = await routeFailure(await getRoute(q.baseUrl, EXPORT, { period: PERIOD }, as(owner)));
    expect(missing.fieldErrors?.map((e) => e.path)).toEqual(['orgId']);
    const future = await routeFailure(await getRoute(q.baseUrl, EXPORT, { orgId, period: '209912' }, as(owner)));
    expect(future).toMatchObject({ status: 400, reason: 'usage.period_in_future' });
    const post = await getRoute(q.baseUrl, EXPORT, { orgId, period: PERIOD }, as(owner), 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
