/**
 * The finance review over HTTP and WebSocket against the real servers: organizations' usage
 * appended to the store (as metering would) is read back by Quorum's operators across every
 * organization, as `finance.orgs` (sorted, paged) and as CSV (`GET /finance/export.csv`). An
 * operator named in `QUORUM_OPERATORS` counts once their address is verified; one granted by
 * the operators command line is refused on the next call once revoked, on either transport;
 * owners and billing members of an organization are refused whatever they hold.
 */
import { randomUUID } from 'node:crypto';
import { meetingMinutesOverage, streamIds, usagePeriodOf, type Plan } from '@quorum/domain';
import type { AppRouter } from '@quorum/gateway/router';
import { DirectoryMailer } from '@quorum/mail';
import { createTRPCClient, createWSClient, TRPCClientError, wsLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { failure, type CallOptions } from '../support/http-client';
import { operatorsCli } from '../support/operators';
import { addMember, PASSWORD, signUp, uniqueEmail, type TestUser } from '../support/people';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';
import { appendUsage, getRoute, parseCsv, routeFailure, type UsageInterval } from '../support/usage';

const EXPORT = '/finance/export.csv';
// Organizations made now did not exist in past months: the review of this one lists them.
const period = usagePeriodOf(new Date());
const monthStart = Date.UTC(Number(period.slice(0, 4)), Number(period.slice(4)) - 1, 1);
const configuredEmail = uniqueEmail('finance-lead');

let q: TestQuorum;
let mailbox: DirectoryMailer;
let configured: TestUser;
let minPosition = '0';
const clients: Array<ReturnType<typeof createWSClient>> = [];

interface Org {
  orgId: string;
  name: string;
  plan: Plan;
  owner: TestUser;
  participantSeconds: number;
  meetingSeconds: number;
}
const orgs: Org[] = [];

interface Row {
  orgId: string;
  name: string;
  plan: string;
  participantMinutes: { seconds: number; minutes: number };
  meetingMinutes: { seconds: number; minutes: number };
  includedMinutes: number | null;
  overageMinutes: number;
  overagePerMinute: number | null;
  overageAmount: number;
  preview: { seats: number; usage: number; total: number } | null;
  currency: string;
}

const as = (u: TestUser): CallOptions => ({ token: u.token });
const later = (a: string, b: string) => (BigInt(a) > BigInt(b) ? a : b);

/** `seconds` of `meter` as one interval per day from the month's first, hosted by `host`. */
function intervals(meter: UsageInterval['meter'], seconds: number[], host: string): UsageInterval[] {
  return seconds.map((s, day) => ({
    meter,
    sessionId: randomUUID(),
    hostUserId: host,
    from: new Date(monthStart + day * 86_400_000).toISOString(),
    seconds: s,
  }));
}

async function org(name: string, plan: 'free' | 'pro' | 'business', participant: number[], meeting: number[]) {
  const owner = await signUp(q.http, 'owner');
  const created = await q.http.mutation('org.create', { name, plan }, as(owner));
  minPosition = later(minPosition, created.position);
  const usage = [
    ...intervals('participant_minutes', participant, owner.userId),
    ...intervals('meeting_minutes', meeting, owner.userId),
  ];
  if (usage.length) minPosition = later(minPosition, (await appendUsage(q.app.store, created.orgId, usage)).position);
  const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
  orgs.push({
    orgId: created.orgId,
    name,
    plan,
    owner,
    participantSeconds: sum(participant),
    meetingSeconds: sum(meeting),
  });
}

function expectedRow(o: Org): Row {
  const overage = meetingMinutesOverage(o.plan, o.meetingSeconds);
  return {
    orgId: o.orgId,
    name: o.name,
    plan: o.plan,
    currency: overage.currency,
    participantMinutes: { seconds: o.participantSeconds, minutes: Math.ceil(o.participantSeconds / 60) },
    meetingMinutes: { seconds: o.meetingSeconds, minutes: overage.billableMinutes },
    includedMinutes: overage.includedMinutes,
    overageMinutes: overage.overageMinutes,
    overagePerMinute: overage.overagePerMinute,
    overageAmount: overage.amount,
    // Created this month with no seats bought: no seat charge, the overage as the usage line.
    preview: { seats: 0, usage: overage.amount, total: overage.amount },
  };
}

/** Every row of the review sorted by `sort` in `order`, `limit` at a time. */
async function allPages(user: TestUser, sort: string, order: string, limit: number): Promise<Row[]> {
  const rows: Row[] = [];
  let cursor: string | undefined;
  do {
    const page = await q.http.query(
      'finance.orgs',
      { period, sort, order, limit, minPosition, ...(cursor ? { cursor } : {}) },
      as(user),
    );
    expect(page.orgs.length).toBeLessThanOrEqual(limit);
    rows.push(...(page.orgs as Row[]));
    cursor = page.next ?? undefined;
  } while (cursor);
  return rows;
}

function wsClient(token: string) {
  const ws = createWSClient({
    url: `ws://127.0.0.1:${q.app.port}/trpc`,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: { token },
  });
  clients.push(ws);
  return createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
}

async function wsRefusal(call: Promise<unknown>) {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof TRPCClientError)) throw err;
    return (err as TRPCClientError<AppRouter>).data as { code?: string; reason?: string } | undefined;
  }
  throw new Error('expected a refusal over WebSocket');
}

beforeAll(async () => {
  q = await startTestQuorum('finance', { QUORUM_OPERATORS: `${configuredEmail}, ${randomUUID()}` });
  const mailer = q.app.gateway.deps.mailer;
  if (!(mailer instanceof DirectoryMailer)) throw new Error('the test Quorum should use development mail');
  mailbox = mailer;
  const session = await q.http.mutation('auth.signUp', { email: configuredEmail, password: PASSWORD, name: 'Fin' });
  configured = {
    userId: session.user.id,
    email: configuredEmail,
    token: session.accessToken,
    refreshToken: session.refreshToken,
  };
  // Pro includes 10,000 meeting minutes and bills 2 cents a minute past them; business 100,000
  // at 1 cent; free 600, never billed past them. Longer intervals than metering writes: the read
  // models sum whatever they hold.
  await org('Acme, "the" Pro', 'pro', [61, 59, 600], [86_000, 86_000, 86_000, 86_000, 86_000, 86_000, 86_000, 121]);
  await org('=HYPERLINK("http://evil.example")', 'business', [7_200], [86_000, 3_600]);
  await org('beta Free', 'free', [30], [36_000, 59]);
  await org('Zeta Idle', 'pro', [], []);
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await q?.stop();
});

describe('an operator named in QUORUM_OPERATORS', () => {
  it('counts only once the address is verified', async () => {
    expect(await failure(q.http.query('finance.orgs', { period }, as(configured)))).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
      reason: 'auth.not_operator',
    });
    const mails = (await mailbox.sent(configuredEmail)).filter((m) => /Confirm your email/.test(m.subject));
    const link = /https?:\/\/\S+/.exec(mails.at(-1)?.text ?? '')?.[0] ?? '';
    await q.http.mutation('auth.verifyEmail', { token: link.slice(link.lastIndexOf('/') + 1) });
    const answer = await q.http.query('finance.orgs', { period, minPosition }, as(configured));
    expect(answer.orgs.length).toBe(orgs.length);
  });

  it('sees every organization once with its plan, totals and overage', async () => {
    const rows = await allPages(configured, 'name', 'asc', 100);
    const byName = [...orgs].sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
    expect(rows).toEqual(byName.map(expectedRow));
    // The pro organization: 602,121 s is 10,036 minutes, 36 past the included, at 2 cents.
    expect(rows.find((r) => r.name.startsWith('Acme'))).toMatchObject({ overageMinutes: 36, overageAmount: 72 });
    // The free one ran past its 600 minutes: counted, never billed.
    expect(rows.find((r) => r.plan === 'free')).toMatchObject({ overageMinutes: 1, overageAmount: 0 });
  });

  it.each([
    ['name', (r: Row) => r.name.toLowerCase()],
    ['participantMinutes', (r: Row) => r.participantMinutes.minutes],
    ['meetingMinutes', (r: Row) => r.meetingMinutes.minutes],
    ['overage', (r: Row) => r.overageAmount],
  ] as const)('pages through the review sorted by %s, either way, each organization once', async (sort, key) => {
    for (const order of ['asc', 'desc'] as const)
      for (const limit of [1, 3]) {
        const rows = await allPages(configured, sort, order, limit);
        const expected = orgs.map(expectedRow).sort((a, b) => {
          const [ka, kb] = [key(a), key(b)];
          const byKey = ka < kb ? -1 : ka > kb ? 1 : a.orgId < b.orgId ? -1 : 1;
          return order === 'asc' ? byKey : -byKey;
        });
        expect(
          rows.map((r) => r.orgId),
          `${sort} ${order} by ${limit}`,
        ).toEqual(expected.map((r) => r.orgId));
      }
  });

  it('downloads the review as RFC 4180 CSV, one row per organization', async () => {
    const res = await getRoute(q.baseUrl, EXPORT, { period, minPosition }, as(configured));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="finance-${period}.csv"`);
    const [header, ...records] = parseCsv(await res.text());
    expect(header).toEqual([
      'org_id',
      'name',
      'period',
      'plan',
      'currency',
      'participant_seconds',
      'participant_minutes',
      'meeting_seconds',
      'meeting_minutes',
      'included_minutes',
      'overage_minutes',
      'overage_per_minute',
      'overage_amount',
      'preview_seats',
      'preview_usage',
      'preview_total',
    ]);
    const byName = [...orgs].sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
    expect(records).toEqual(
      byName.map(expectedRow).map((r) => [
        r.orgId,
        // A name that would start a spreadsheet formula comes out as text.
        r.name.startsWith('=') ? `'${r.name}` : r.name,
        period,
        r.plan,
        r.currency,
        String(r.participantMinutes.seconds),
        String(r.participantMinutes.minutes),
        String(r.meetingMinutes.seconds),
        String(r.meetingMinutes.minutes),
        r.includedMinutes === null ? '' : String(r.includedMinutes),
        String(r.overageMinutes),
        r.overagePerMinute === null ? '' : String(r.overagePerMinute),
        String(r.overageAmount),
        String(r.preview!.seats),
        String(r.preview!.usage),
        String(r.preview!.total),
      ]),
    );
  });

  it('is told what is wrong with bad input, never a 500', async () => {
    expect(await failure(q.http.query('finance.orgs', { period: '999912' }, as(configured)))).toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
      reason: 'usage.period_in_future',
    });
    const f = await failure(q.http.query('finance.orgs', { period, limit: 501, cursor: 'nope' }, as(configured)));
    expect(f).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(f.fieldErrors?.map((e) => e.path).sort()).toEqual(['cursor', 'limit']);
    const queries: Array<Record<string, string>> = [
      { period: '2025-1' },
      { period: '999912' },
      {},
      { period, minPosition: 'x' },
    ];
    for (const query of queries) {
      const r = await routeFailure(await getRoute(q.baseUrl, EXPORT, query, as(configured)));
      expect(r, JSON.stringify(query)).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    }
  });
});

describe('an operator granted from the command line', () => {
  it('is refused an unverified address, sees the review once granted, and is refused on the next call once revoked, on HTTP and WebSocket', async () => {
    const analyst = await signUp(q.http, 'analyst');
    const unverified = await operatorsCli(q, ['grant', analyst.email, '--by', 'test']);
    expect(unverified.code).toBe(1);
    expect(unverified.stderr).toContain('is not verified');

    const granted = await operatorsCli(q, ['grant', analyst.userId, '--by', 'finance-lead']);
    expect(granted).toMatchObject({ code: 0, stdout: `granted ${analyst.userId} (${analyst.email})\n` });
    expect((await operatorsCli(q, ['list'])).stdout).toContain(`${analyst.userId}\t${analyst.email}\tgranted `);

    const socket = wsClient(analyst.token);
    expect((await socket.finance.orgs.query({ period, minPosition })).orgs.length).toBe(orgs.length);
    expect((await q.http.query('finance.orgs', { period }, as(analyst))).orgs.length).toBe(orgs.length);
    expect((await getRoute(q.baseUrl, EXPORT, { period }, as(analyst))).status).toBe(200);

    const revoked = await operatorsCli(q, ['revoke', analyst.email, '--by', 'finance-lead']);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked ${analyst.userId} (${analyst.email})\n` });
    const revokedAt = Date.now();
    expect(await failure(q.http.query('finance.orgs', { period }, as(analyst)))).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
      reason: 'auth.not_operator',
    });
    // The same open socket: its next call is refused, though the session itself still holds.
    expect(await wsRefusal(socket.finance.orgs.query({ period }))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await socket.auth.me.query({})).toMatchObject({ id: analyst.userId });
    expect(await routeFailure(await getRoute(q.baseUrl, EXPORT, { period }, as(analyst)))).toMatchObject({
      status: 403,
      reason: 'auth.not_operator',
    });
    expect(Date.now() - revokedAt).toBeLessThan(5_000);

    const history = await operatorsCli(q, ['list', '--all']);
    expect(history.stdout).toMatch(new RegExp(`${analyst.userId}\\t.*\\trevoked .* by finance-lead`));
    expect((await operatorsCli(q, ['list'])).stdout).not.toContain(analyst.userId);
  });

  it('refuses a malformed command line without touching the table', async () => {
    expect((await operatorsCli(q, ['promote', 'someone'])).code).toBe(2);
    expect((await operatorsCli(q, ['grant'])).code).toBe(2);
    expect(await operatorsCli(q, ['grant', 'nobody-here@example.com'])).toMatchObject({ code: 1 });
  });
});

describe('everyone else', () => {
  it('owners and billing members of an organization, and its API keys, are refused finance.* with nothing of it', async () => {
    const acme = orgs[0]!;
    const billing = await addMember(q.http, acme.orgId, acme.owner, 'billing');
    const { secret } = await q.http.mutation(
      'apiKeys.create',
      { orgId: acme.orgId, name: 'finance?', role: 'admin' },
      as(acme.owner),
    );
    for (const creds of [as(acme.owner), as(billing), { apiKey: secret as string }]) {
      const f = await failure(q.http.query('finance.orgs', { period }, creds));
      expect(f).toMatchObject({ status: 403, code: 'FORBIDDEN', reason: 'auth.not_operator' });
      expect(JSON.stringify(f)).not.toContain(acme.orgId);
      const r = await routeFailure(await getRoute(q.baseUrl, EXPORT, { period }, creds));
      expect(r).toMatchObject({ status: 403, code: 'FORBIDDEN', reason: 'auth.not_operator' });
    }
    // Their own organization's usage is still theirs to read.
    const own = await q.http.query('usage.summary', { orgId: acme.orgId, period, minPosition }, as(billing));
    expect(own.totals[1]).toMatchObject({ meter: 'meeting_minutes', seconds: acme.meetingSeconds });
    expect(await failure(q.http.query('finance.orgs', { period }))).toMatchObject({ status: 401 });
  });
});

describe('the Stripe sync on the finance review', () => {
  it('says Stripe is not connected, lists dead letters, and records retry and skip requests for the billing process', async () => {
    expect(await q.http.query('finance.stripe', undefined, as(configured))).toMatchObject({
      connected: false,
      deadLetters: [],
    });
    const owner = orgs[0]!;
    const preview = await q.http.query('billing.preview', { orgId: owner.orgId, period }, as(owner.owner));
    expect(preview.stripe).toEqual({ connected: false, customerId: null, invoices: [] });

    // A call Stripe refused, as the billing process records it.
    const cause = randomUUID();
    await q.app.sql.query(
      `INSERT INTO billing_dead_letters (cause_event_id, operation, org_id, cause_type, cause_position, request, error, attempts, failed_at)
       VALUES ($1, 'usage', $2, 'usage.recorded', 42, NULL, $3, 1, now())`,
      [
        cause,
        owner.orgId,
        JSON.stringify({
          type: 'StripeInvalidRequestError',
          code: 'resource_missing',
          message: 'No such customer',
          statusCode: 400,
          requestId: 'req_1',
        }),
      ],
    );
    const listed = await q.http.query('finance.stripe', undefined, as(configured));
    expect(listed.deadLetters).toEqual([
      {
        causeEventId: cause,
        operation: 'usage',
        orgId: owner.orgId,
        causeType: 'usage.recorded',
        error: {
          type: 'StripeInvalidRequestError',
          code: 'resource_missing',
          message: 'No such customer',
          statusCode: 400,
        },
        attempts: 1,
        failedAt: expect.any(String),
        requested: null,
      },
    ]);

    const noReason = await failure(
      q.http.mutation(
        'finance.stripeRequest',
        { causeEventId: cause, operation: 'usage', action: 'skip' },
        as(configured),
      ),
    );
    expect(noReason).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    const unknown = await failure(
      q.http.mutation(
        'finance.stripeRequest',
        { causeEventId: randomUUID(), operation: 'usage', action: 'retry' },
        as(configured),
      ),
    );
    expect(unknown).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(
      await failure(
        q.http.mutation(
          'finance.stripeRequest',
          { causeEventId: cause, operation: 'usage', action: 'retry' },
          as(owner.owner),
        ),
      ),
    ).toMatchObject({ status: 403, reason: 'auth.not_operator' });
    expect(await failure(q.http.query('finance.stripe', undefined, as(owner.owner)))).toMatchObject({
      status: 403,
      reason: 'auth.not_operator',
    });

    expect(
      await q.http.mutation(
        'finance.stripeRequest',
        { causeEventId: cause, operation: 'usage', action: 'retry' },
        as(configured),
      ),
    ).toEqual({ requested: 'retry' });
    const requested = await q.http.query('finance.stripe', undefined, as(configured));
    expect(requested.deadLetters[0]!.requested).toMatchObject({ action: 'retry', by: configured.email });
    const { rows } = await q.app.sql.query<{ requested_action: string; requested_by: string }>(
      `SELECT requested_action, requested_by FROM billing_dead_letters WHERE cause_event_id = $1`,
      [cause],
    );
    expect(rows).toEqual([{ requested_action: 'retry', requested_by: configured.email }]);
    // Resolved (as the billing process does once Stripe took it), it leaves the list.
    await q.app.sql.query(
      `UPDATE billing_dead_letters SET resolved_at = now(), resolution = 'retried' WHERE cause_event_id = $1`,
      [cause],
    );
    expect((await q.http.query('finance.stripe', undefined, as(configured))).deadLetters).toEqual([]);
  });

  it('shows the last reconciliation run and its differences, as the billing process appends them', async () => {
    const [first, second] = [orgs[0]!, orgs[1]!];
    const run = `cli-${randomUUID()}`;
    const at = new Date().toISOString();
    const usageEventId = randomUUID();
    const reconciled = (orgId: string, differences: unknown[]) => ({
      id: randomUUID(),
      type: 'billing.reconciliation_completed',
      version: 1,
      data: {
        period,
        run,
        at,
        customerId: `cus_${orgId.slice(0, 8)}`,
        figures: {
          quorumMinutes: 12,
          reportedMinutes: differences.length ? 10 : 12,
          stripeMeterMinutes: differences.length ? 10 : 12,
          invoiceMinutes: null,
          purchasedSeats: 2,
          subscriptionSeats: 2,
        },
        differences,
      },
      metadata: {
        orgId,
        actor: { kind: 'system' as const, id: 'billing' },
        correlationId: randomUUID(),
        causationId: null,
      },
    });
    const difference = {
      compares: 'reported_minutes',
      quorum: 12,
      other: 10,
      detail: '2 minutes of 1 usage event were not reported to Stripe.',
      events: [{ eventId: usageEventId, type: 'usage.recorded', note: '2 min; dead letter open: Invalid value.' }],
      moreEvents: 0,
    };
    await q.app.store.appendToStream(streamIds.billing(first.orgId), [reconciled(first.orgId, [difference])]);
    await q.app.store.appendToStream(streamIds.billing(second.orgId), [reconciled(second.orgId, [])]);
    let last = (await q.http.query('finance.stripe', undefined, as(configured))).reconciliation;
    for (let i = 0; i < 100 && (last?.run !== run || last.reconciled < 2); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      last = (await q.http.query('finance.stripe', undefined, as(configured))).reconciliation;
    }
    expect(last).toEqual({
      run,
      at,
      reconciled: 2,
      differences: [{ orgId: first.orgId, period, ...difference }],
    });
  });
});
