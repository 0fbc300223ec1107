/**
 * Usage & billing in the console, against the real stack: an owner holds a three-person meeting
 * in real browsers (fake camera and microphone through the embedded SFU), the metering consumer
 * meters it (settling after a second here, not 150), and the owner finds the meeting's minutes
 * on the Usage & billing page, drills down to its usage events and the session events they came
 * from, follows one into the event log and downloads the month as CSV with the browser's own
 * session cookie: every row leads back to the session's events. A billing member sees the page
 * too; a plain member has no link to it and is told why if they open its address, and the export
 * refuses their session.
 */
import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../support/usage';
import { call, cspViolations, launchChromium, screenshot, startQuorum, type RunningQuorum } from './harness';
import { joinInUi, organization, person, startMeetingInUi, type Person } from './meeting-helpers';

let quorum: RunningQuorum;
let browser: Browser;
const people: Person[] = [];

beforeAll(async () => {
  quorum = await startQuorum({ env: { METERING_SETTLE_LAG_SECONDS: '1', METERING_TICK_MS: '1000' } });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const p of people)
    await p.context.close().catch((err: unknown) => console.warn(`closing ${p.name}'s context failed`, err));
  await browser?.close();
  await quorum?.stop();
});

async function newPerson(name: string): Promise<Person> {
  const p = await person(browser, quorum.baseUrl, name);
  people.push(p);
  return p;
}

interface WireEvent {
  id: string;
  type: string;
  streamId: string;
  data: { at: string };
}

interface UsageSummary {
  rows: Array<{ key: string; meter: string; seconds: number; minutes: number; records: number }>;
  totals: Array<{ meter: string; seconds: number; minutes: number; records: number }>;
}

interface UsageRecord {
  eventId: string;
  meter: string;
  sessionId: string;
  day: string;
  seconds: number;
  sources: string[];
}

function currentPeriod(): string {
  const now = new Date();
  return `${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
}

describe('usage and billing in the console', () => {
  it('shows a meeting’s minutes, its usage events and their session events, and the CSV of the month', async () => {
    const owner = await newPerson('Olive Owner');
    const ada = await newPerson('Ada Member');
    const bob = await newPerson('Bill Billing');
    const orgId = await organization(quorum.baseUrl, owner, [ada, bob], 'Metered Co');
    await call(
      quorum.baseUrl,
      'mutation',
      'members.changeRole',
      { orgId, userId: bob.userId, role: 'billing' },
      owner.token,
    );
    const period = currentPeriod();

    // A three-person meeting, held in the browsers, then ended by the host for everyone.
    const sessionId = await startMeetingInUi(owner, orgId, 'Quarterly review');
    for (const p of [owner, ada, bob]) await joinInUi(p, orgId, sessionId);
    for (const p of [owner, ada, bob]) await p.page.locator('[data-testid="meeting-room"][data-mode="sfu"]').waitFor();
    await owner.page.waitForTimeout(3_000);
    await owner.page.getByRole('button', { name: 'End meeting for everyone' }).click();
    await owner.page.getByRole('button', { name: 'End meeting for everyone?' }).click();
    for (const p of [owner, ada, bob])
      await p.page
        .getByTestId('meeting-over')
        .filter({ hasText: 'The host ended the meeting for everyone.' })
        .waitFor();

    // The session's events, once the projector has the end.
    const sessionStream = async () =>
      (
        await call<{ events: WireEvent[] }>(quorum.baseUrl, 'query', 'events.list', { orgId, limit: 500 }, owner.token)
      ).events.filter((e) => e.streamId === `session-${sessionId}`);
    await expect.poll(async () => (await sessionStream()).some((e) => e.type === 'session.ended')).toBe(true);
    const stream = await sessionStream();
    const sessionEvents = new Map(stream.map((e) => [e.id, e.type] as const));
    const joined = stream.filter((e) => e.type === 'participant.joined');
    const joins = joined.map((e) => e.id);
    expect(joins).toHaveLength(3);
    // Nobody left before the host ended it, so each stint runs from its join to the end, and the
    // meeting from the first join to the end, in whole seconds (docs/metering.md).
    expect(
      stream.some((e) => ['participant.left', 'participant.removed', 'participant.reconnected'].includes(e.type)),
    ).toBe(false);
    const second = (iso: string) => Math.floor(Date.parse(iso) / 1000);
    const endedAt = second(stream.find((e) => e.type === 'session.ended')!.data.at);
    const expected = {
      meeting_minutes: endedAt - Math.min(...joined.map((e) => second(e.data.at))),
      participant_minutes: joined.reduce((n, e) => n + endedAt - second(e.data.at), 0),
    };
    expect(expected.meeting_minutes).toBeGreaterThanOrEqual(3);

    // The metering consumer writes every second of it once the end is in the stream.
    const meetingSummary = () =>
      call<UsageSummary>(quorum.baseUrl, 'query', 'usage.summary', { orgId, period, groupBy: 'meeting' }, owner.token);
    await expect
      .poll(
        async () =>
          Object.fromEntries(
            (await meetingSummary()).rows.filter((r) => r.key === sessionId).map((r) => [r.meter, r.seconds]),
          ),
        { timeout: 30_000, message: 'the meeting is metered in full' },
      )
      .toEqual(expected);
    const summary = await meetingSummary();
    const meetingRow = summary.rows.find((r) => r.key === sessionId && r.meter === 'meeting_minutes')!;
    const participantRow = summary.rows.find((r) => r.key === sessionId && r.meter === 'participant_minutes')!;
    const { records } = await call<{ records: UsageRecord[] }>(
      quorum.baseUrl,
      'query',
      'usage.records',
      { orgId, period, sessionId, limit: 500 },
      owner.token,
    );

    // The owner opens Usage & billing from the organization's navigation.
    const page = owner.page;
    await page.goto(`/orgs/${orgId}/seats`);
    await page.getByRole('link', { name: 'Usage & billing' }).click();
    await page.waitForURL(new RegExp(`/orgs/${orgId}/usage$`));
    await page.getByRole('heading', { name: 'Usage & billing', level: 1 }).waitFor();
    // The months offered: this one first, then earlier ones, none in the future.
    await page.getByLabel('Month (UTC)').waitFor();
    const months = await page
      .getByLabel('Month (UTC)')
      .locator('option')
      .evaluateAll((os) => os.map((o) => o.getAttribute('value')));
    expect(months[0]).toBe(period);
    expect(months.every((m) => m !== null && m <= period)).toBe(true);
    expect(months.length).toBeGreaterThan(1);

    // The meeting's minutes, by meeting, by day and in the month's totals, as the API counts them.
    const meetingLine = page.getByTestId(`usage-meeting-${sessionId}`);
    await meetingLine.getByText('Quarterly review').waitFor();
    expect(await meetingLine.getByTestId('meeting-minutes').textContent()).toBe(String(meetingRow.minutes));
    expect(await meetingLine.getByTestId('participant-minutes').textContent()).toBe(String(participantRow.minutes));
    await page.getByTestId(`usage-host-${owner.userId}`).getByText(owner.email).waitFor();
    const meetingTotal = page.getByTestId('usage-total-meeting_minutes');
    expect(await meetingTotal.getByTestId('usage-total-minutes').textContent()).toBe(
      `${meetingRow.minutes} minute${meetingRow.minutes === 1 ? '' : 's'}`,
    );
    await meetingTotal.getByText('10,000 minutes').waitFor();
    expect(await meetingTotal.getByTestId('usage-threshold').textContent()).toBe('Under 80% of included minutes');
    expect(await page.getByTestId('usage-overage-amount').textContent()).toBe('$0.00');
    // The embedded default has no Stripe key: the invoice is Quorum's preview, and the page says so.
    await page.getByTestId('invoice-preview-total').waitFor();
    await page.getByTestId('stripe-status').getByText('Stripe is not connected', { exact: false }).waitFor();
    await page.getByTestId('usage-chart').locator('canvas').waitFor();
    expect(await page.getByTestId('usage-chart').getAttribute('aria-label')).toMatch(/^Daily minutes in /);
    await screenshot(page, 'usage-billing', { docs: true, phone: true });

    // Drill down into the meeting: its usage events, each with its interval, seconds and sources.
    await page.getByRole('button', { name: 'Usage events of Quarterly review' }).click();
    await page.waitForURL(new RegExp(`/orgs/${orgId}/usage\\?period=${period}&meeting=${sessionId}$`));
    const list = page.getByTestId('usage-records');
    await list.getByRole('heading', { name: 'Usage events of Quarterly review' }).waitFor();
    await expect.poll(() => list.getByTestId('usage-record').count()).toBe(records.length);
    const shown = await list.getByTestId('usage-record').evaluateAll((rows) =>
      rows.map((r) => ({
        eventId: r.getAttribute('data-event-id'),
        seconds: Number(r.querySelector('[data-testid="usage-record-seconds"]')?.textContent),
        sources: [...r.querySelectorAll('[data-testid="usage-source"]')].map((a) => a.getAttribute('data-source-id')),
      })),
    );
    expect(shown).toEqual(records.map((r) => ({ eventId: r.eventId, seconds: r.seconds, sources: r.sources })));
    // Every source is one of the meeting's session events, and every join opened some usage.
    const sources = new Set(shown.flatMap((r) => r.sources));
    for (const id of sources) expect(sessionEvents.has(id!), `source ${id} is a session event`).toBe(true);
    for (const id of joins) expect(sources.has(id), `join ${id} is a source`).toBe(true);
    await screenshot(page, 'usage-billing-events');

    // The first source leads to the event log, where that event is marked.
    const firstSource = shown[0]!.sources[0]!;
    await list.locator(`[data-source-id="${firstSource}"]`).first().click();
    await page.waitForURL(new RegExp(`/orgs/${orgId}/activity\\?event=${firstSource}$`));
    for (let i = 0; i < 10 && (await page.locator(`li.wanted[data-event-id="${firstSource}"]`).count()) === 0; i++) {
      const older = page.getByRole('button', { name: 'Load older events' });
      if ((await older.count()) === 0) await page.waitForTimeout(300);
      else await older.click();
    }
    await page.locator(`li.wanted[data-event-id="${firstSource}"]`).waitFor();
    expect(await page.locator(`li.wanted[data-event-id="${firstSource}"]`).getAttribute('data-type')).toBe(
      sessionEvents.get(firstSource),
    );
    await page.getByTestId('wanted-event').getByText('is marked below.').waitFor();
    await page.goBack();

    // A day drills down the same way, from the table beside the chart.
    const day = records[0]!.day;
    await page.getByRole('button', { name: `Usage events of ${day}` }).click();
    await list.getByRole('heading', { name: `Usage events of ${day}` }).waitFor();
    // Only this meeting ran in the organization: the day's usage events are its events of that day.
    await expect.poll(() => list.getByTestId('usage-record').count()).toBe(records.filter((r) => r.day === day).length);

    // The CSV: the link downloads with the browser's session cookie, one row per usage event.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('usage-csv').click()]);
    expect(download.suggestedFilename()).toBe(`usage-${orgId}-${period}.csv`);
    const csv = parseCsv(await readFile((await download.path())!, 'utf8'));
    const [header, ...rows] = csv;
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
    const col = (name: string) => header!.indexOf(name);
    const meetingRows = rows.filter((r) => r[col('session_id')] === sessionId);
    expect(meetingRows.map((r) => r[col('event_id')]).sort()).toEqual(records.map((r) => r.eventId).sort());
    for (const r of meetingRows)
      for (const id of r[col('sources')]!.split(' ')) expect(sessionEvents.has(id), `CSV source ${id}`).toBe(true);
    expect(
      meetingRows
        .filter((r) => r[col('meter')] === 'meeting_minutes')
        .reduce((n, r) => n + Number(r[col('seconds')]), 0),
    ).toBe(meetingRow.seconds);
    // The same address fetched by the page itself: the cookie session is all it needs.
    const fetched = await page.evaluate(
      async (href) => {
        const res = await fetch(href);
        return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
      },
      (await page.getByTestId('usage-csv').getAttribute('href'))!,
    );
    expect(fetched.status).toBe(200);
    expect(fetched.type).toMatch(/^text\/csv/);
    expect(parseCsv(fetched.text)).toHaveLength(csv.length);

    // A billing member sees the page and the same totals.
    await bob.page.goto(`/orgs/${orgId}/seats`);
    await bob.page.getByRole('link', { name: 'Usage & billing' }).click();
    await bob.page.getByTestId(`usage-meeting-${sessionId}`).getByText('Quarterly review').waitFor();

    // A member has no link to it; its address says why, and the export refuses their session.
    await ada.page.goto(`/orgs/${orgId}/seats`);
    await ada.page.getByRole('link', { name: 'Activity' }).waitFor();
    expect(await ada.page.getByRole('link', { name: 'Usage & billing' }).count()).toBe(0);
    await ada.page.goto(`/orgs/${orgId}/usage`);
    await ada.page
      .getByTestId('not-allowed')
      .filter({ hasText: 'Only owners and billing members can see usage and billing; your role is member.' })
      .waitFor();
    const refused = await ada.page.evaluate(async (href) => {
      const res = await fetch(href);
      return { status: res.status, body: (await res.json()) as { error?: { data?: { code?: string } } } };
    }, `/usage/export.csv?orgId=${orgId}&period=${period}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.data?.code).toBe('FORBIDDEN');
  });

  it('ran within the Content-Security-Policy', () => {
    expect(cspViolations()).toEqual([]);
  });
});
