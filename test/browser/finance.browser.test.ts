/**
 * The operators' Finance page in the console, against the compiled all-in-one started with one
 * operator named by address in `QUORUM_OPERATORS`. Two organizations hold meetings (joins and
 * leaves reported as the SFU reports them, so the metering consumer meters them for real): the
 * operator, once their address is verified, finds Finance in the top navigation, sees both
 * organizations with the minutes the API counts, sorts by meeting minutes on the server, opens an
 * organization they belong to as billing member (its usage summary shows) and one they do not
 * belong to (its finance row only), downloads the month as CSV with the browser's cookie, and
 * pages past the first 50 organizations.
 * An owner who is no operator has no Finance link and is told why at its address.
 */
import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../support/usage';
import {
  call,
  cspViolations,
  launchChromium,
  screenshot,
  startQuorum,
  uniqueEmail,
  type RunningQuorum,
} from './harness';
import { FAKE_VIDEO, organization, person, type Person } from './meeting-helpers';

const OPERATOR_EMAIL = uniqueEmail('finance');

let quorum: RunningQuorum;
let browser: Browser;
const people: Person[] = [];

beforeAll(async () => {
  quorum = await startQuorum({
    env: { QUORUM_OPERATORS: OPERATOR_EMAIL, METERING_SETTLE_LAG_SECONDS: '1', METERING_TICK_MS: '1000' },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const p of people)
    await p.context.close().catch((err: unknown) => console.warn(`closing ${p.name}'s context failed`, err));
  await browser?.close();
  await quorum?.stop();
});

async function newPerson(name: string, email?: string): Promise<Person> {
  const p = await person(browser, quorum.baseUrl, name, FAKE_VIDEO, email);
  people.push(p);
  return p;
}

/** Reports a join or a leave as an SFU node does, with the node's service token. */
async function sfu(path: 'sfu.participantJoined' | 'sfu.participantLeft', input: Record<string, unknown>) {
  const res = await fetch(`${quorum.baseUrl}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-quorum-service-token': await quorum.serviceToken() },
    body: JSON.stringify(input),
  });
  if (!res.ok) throw new Error(`${path} failed: ${res.status} ${await res.text()}`);
}

/** A meeting in `orgId` hosted by its owner, with `attendees` connected through the SFU. */
async function holdMeeting(orgId: string, owner: Person, attendees: Person[], title: string) {
  const { sessionId } = await call<{ sessionId: string }>(
    quorum.baseUrl,
    'mutation',
    'meetings.create',
    { orgId, title },
    owner.token,
  );
  for (const p of attendees)
    await sfu('sfu.participantJoined', { orgId, sessionId, participantId: p.userId, displayName: p.name });
  return {
    startedAt: Date.now(),
    end: () => call(quorum.baseUrl, 'mutation', 'meetings.end', { orgId, sessionId }, owner.token),
  };
}

interface FinanceRow {
  orgId: string;
  name: string;
  meetingMinutes: { seconds: number; minutes: number };
  participantMinutes: { seconds: number; minutes: number };
  overageMinutes: number;
  preview: { total: number } | null;
}

function currentPeriod(): string {
  const now = new Date();
  return `${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
}

describe('the operators’ finance review in the console', () => {
  it('lists every organization’s month, sorts it on the server, opens one, downloads the CSV and pages', async () => {
    const period = currentPeriod();
    const operator = await newPerson('Fiona Finance', OPERATOR_EMAIL);
    // An address named in QUORUM_OPERATORS counts only once it is verified (by the mailed link
    // here; accepting an invitation mailed to it below would verify it too).
    expect(await call<{ operator: boolean }>(quorum.baseUrl, 'query', 'auth.me', {}, operator.token)).toMatchObject({
      operator: false,
    });
    const [verification] = await quorum.mailTo(OPERATOR_EMAIL);
    const token = /\/verify-email\/(qev_[A-Za-z0-9_-]{43})/.exec(verification?.text ?? '')?.[1];
    expect(token, verification?.text).toBeDefined();
    await call(quorum.baseUrl, 'mutation', 'auth.verifyEmail', { token }, operator.token);
    expect(await call<{ operator: boolean }>(quorum.baseUrl, 'query', 'auth.me', {}, operator.token)).toMatchObject({
      operator: true,
    });

    const alice = await newPerson('Alice Owner');
    const bruno = await newPerson('Bruno Owner');
    const bea = await newPerson('Bea Member');
    const alpha = await organization(quorum.baseUrl, alice, [], 'Alpha Studio');
    const bravo = await organization(quorum.baseUrl, bruno, [bea, operator], 'Bravo Works');
    await call(
      quorum.baseUrl,
      'mutation',
      'members.changeRole',
      { orgId: bravo, userId: operator.userId, role: 'billing' },
      bruno.token,
    );

    // Bravo's meeting runs past a minute so its meeting minutes differ from Alpha's short one.
    const long = await holdMeeting(bravo, bruno, [bruno, bea], 'Long review');
    const short = await holdMeeting(alpha, alice, [alice], 'Short check');
    await new Promise((r) => setTimeout(r, 2_500));
    await short.end();

    // An owner who is no operator: no Finance link, and its address says why.
    await alice.page.goto(`/orgs/${alpha}/seats`);
    await alice.page.getByRole('link', { name: 'Activity' }).waitFor();
    expect(await alice.page.getByRole('link', { name: 'Finance' }).count()).toBe(0);
    await alice.page.goto('/finance');
    await alice.page.getByTestId('not-allowed').filter({ hasText: 'Finance is for Quorum’s operators only' }).waitFor();
    const refused = await alice.page.evaluate(
      async (href) => (await fetch(href)).status,
      `/finance/export.csv?period=${period}`,
    );
    expect(refused).toBe(403);

    await new Promise((r) => setTimeout(r, Math.max(0, long.startedAt + 62_000 - Date.now())));
    await long.end();

    // Both meetings metered in full: every second of each, once its end is in the stream.
    const financeRows = async () =>
      (await call<{ orgs: FinanceRow[] }>(quorum.baseUrl, 'query', 'finance.orgs', { period }, operator.token)).orgs;
    const metered = (r: FinanceRow | undefined, attendees: number, atLeast: number) =>
      r !== undefined &&
      r.meetingMinutes.seconds >= atLeast &&
      r.participantMinutes.seconds >= attendees * (r.meetingMinutes.seconds - 2);
    await expect
      .poll(
        async () => {
          const rows = await financeRows();
          return (
            metered(
              rows.find((r) => r.orgId === alpha),
              1,
              2,
            ) &&
            metered(
              rows.find((r) => r.orgId === bravo),
              2,
              62,
            )
          );
        },
        { timeout: 30_000, message: 'both meetings are metered in full' },
      )
      .toBe(true);
    const rows = await financeRows();
    const a = rows.find((r) => r.orgId === alpha)!;
    const b = rows.find((r) => r.orgId === bravo)!;
    expect(a.meetingMinutes.minutes).toBe(1);
    expect(b.meetingMinutes.minutes).toBe(2);
    // The finance rows count what each organization's own usage page counts.
    for (const [orgId, owner, row] of [
      [alpha, alice, a],
      [bravo, bruno, b],
    ] as const) {
      const summary = await call<{ totals: Array<{ meter: string; minutes: number }> }>(
        quorum.baseUrl,
        'query',
        'usage.summary',
        { orgId, period, groupBy: 'meter' },
        owner.token,
      );
      expect(Object.fromEntries(summary.totals.map((t) => [t.meter, t.minutes]))).toEqual({
        meeting_minutes: row.meetingMinutes.minutes,
        participant_minutes: row.participantMinutes.minutes,
      });
    }

    // The operator finds Finance in the top navigation.
    const page = operator.page;
    await page.goto(`/orgs/${bravo}/seats`);
    await page.getByRole('navigation', { name: 'Quorum operators' }).getByRole('link', { name: 'Finance' }).click();
    await page.waitForURL(/\/finance$/);
    await page.getByRole('heading', { name: 'Finance', level: 1 }).waitFor();
    const months = await page
      .getByLabel('Month (UTC)')
      .locator('option')
      .evaluateAll((os) => os.map((o) => o.getAttribute('value')));
    expect(months).toHaveLength(12);
    expect(months[0]).toBe(period);

    await page.getByTestId('stripe-sync-status').getByText('Stripe is not connected', { exact: false }).waitFor();
    const table = page.getByTestId('finance-orgs');
    const order = () =>
      table
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-testid')?.replace('finance-org-', '')));
    for (const row of [a, b]) {
      const line = page.getByTestId(`finance-org-${row.orgId}`);
      await line.getByRole('button', { name: row.name }).waitFor();
      expect(await line.getByTestId('meeting-minutes').textContent()).toBe(String(row.meetingMinutes.minutes));
      expect(await line.getByTestId('participant-minutes').textContent()).toBe(String(row.participantMinutes.minutes));
      expect(await line.getByTestId('overage-amount').textContent()).toBe('$0.00');
      // Both hold a seat since the start of the meeting: their month's invoice preview is priced.
      expect(row.preview?.total).toBeGreaterThan(0);
      expect(await line.getByTestId('invoice-preview').textContent()).toBe(`$${(row.preview!.total / 100).toFixed(2)}`);
    }
    expect(await order()).toEqual([alpha, bravo]);

    // Sorted by meeting minutes on the server: largest first, then turned around.
    await table.getByRole('button', { name: 'Meeting minutes' }).click();
    await page.waitForURL(/sort=meetingMinutes&order=desc/);
    await expect.poll(order).toEqual([bravo, alpha]);
    expect(await table.locator('th[aria-sort="descending"]').textContent()).toContain('Meeting minutes');
    await table.getByRole('button', { name: 'Meeting minutes' }).click();
    await page.waitForURL(/sort=meetingMinutes&order=asc/);
    await expect.poll(order).toEqual([alpha, bravo]);
    await table.getByRole('button', { name: 'Meeting minutes' }).click();
    await expect.poll(order).toEqual([bravo, alpha]);

    // Alpha: the operator is not a member, so its usage summary is refused and the row is all.
    await page.getByTestId(`finance-org-${alpha}`).getByRole('button', { name: 'Alpha Studio' }).click();
    const details = page.getByTestId('finance-org-details');
    await details.getByRole('heading', { name: /^Alpha Studio/ }).waitFor();
    await details.getByTestId('finance-org-no-usage').waitFor();
    expect(await details.getByTestId('finance-org-usage').count()).toBe(0);
    await details
      .getByTestId('finance-fact-meeting-minutes')
      .filter({ hasText: /^1 minute$/ })
      .waitFor();

    // Bravo: the operator is one of its billing members, so its usage summary shows.
    await page.getByTestId(`finance-org-${bravo}`).getByRole('button', { name: 'Bravo Works' }).click();
    await details.getByRole('heading', { name: /^Bravo Works/ }).waitFor();
    await details.getByTestId('finance-org-usage').getByText(`${b.meetingMinutes.minutes} minutes`).waitFor();
    expect(await details.getByTestId('finance-org-no-usage').count()).toBe(0);
    await screenshot(page, 'finance', { docs: true });

    // The CSV: the link downloads with the browser's session cookie, one row per organization.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('finance-csv').click()]);
    expect(download.suggestedFilename()).toBe(`finance-${period}.csv`);
    const [header, ...records] = parseCsv(await readFile((await download.path())!, 'utf8'));
    const col = (name: string) => header!.indexOf(name);
    expect(records.map((r) => r[col('name')])).toEqual(['Alpha Studio', 'Bravo Works']);
    for (const row of [a, b]) {
      const record = records.find((r) => r[col('org_id')] === row.orgId)!;
      expect(Number(record[col('meeting_minutes')])).toBe(row.meetingMinutes.minutes);
      expect(Number(record[col('participant_minutes')])).toBe(row.participantMinutes.minutes);
      expect(Number(record[col('overage_minutes')])).toBe(row.overageMinutes);
    }

    // Past a page (50 rows): "More" follows the server's cursor until every organization is shown.
    for (let i = 1; i <= 50; i++)
      await call(
        quorum.baseUrl,
        'mutation',
        'org.create',
        { name: `Filler ${String(i).padStart(2, '0')}`, plan: 'free' },
        alice.token,
      );
    await page.goto(`/finance?period=${period}`);
    await expect.poll(() => table.locator('tbody tr').count()).toBe(50);
    expect((await order()).slice(0, 2)).toEqual([alpha, bravo]);
    await page.getByRole('button', { name: 'More' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(52);
    const names = await table.locator('tbody th').allTextContents();
    expect(names.slice(-2)).toEqual(['Filler 49', 'Filler 50']);
    expect(new Set(names).size).toBe(52);
    expect(await page.getByRole('button', { name: 'More' }).count()).toBe(0);
    await page.getByTestId('finance-loaded-totals').getByText('52 organizations shown').waitFor();
  });

  it('ran within the Content-Security-Policy', () => {
    expect(cspViolations()).toEqual([]);
  });
});
