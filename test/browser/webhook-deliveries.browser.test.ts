/**
 * The delivery log of the Webhooks page as an owner uses it, against a receiver on 127.0.0.1
 * that fails on demand: a delivery that failed every attempt shows each attempt with the
 * receiver's answer; Resend delivers it; "Recover failed since…" queues the ones that failed;
 * a resend while an attempt is under way is refused in words; older deliveries come a page at a
 * time. The retry schedule is scaled down (WEBHOOK_RETRY_SCALE) so a delivery runs out of
 * attempts in about a second.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  cspViolations,
  launchChromium,
  newContext,
  PASSWORD,
  screenshot,
  startQuorum,
  uniqueEmail,
  type RunningQuorum,
} from './harness';

/** A receiver that answers with the status and body of the moment, or holds requests until released. */
interface Receiver {
  url: string;
  received: Array<{ headers: IncomingHttpHeaders; body: string }>;
  answer: { status: number; body: string };
  /** While set, requests wait; `release()` answers them all with `answer`. */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  let held: Array<() => void> | undefined;
  const receiver: Receiver = {
    url: '',
    received: [],
    answer: { status: 200, body: 'ok' },
    hold: () => (held = []),
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const go of waiting) go();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        receiver.release();
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      receiver.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const respond = () =>
        res.writeHead(receiver.answer.status, { 'content-type': 'text/plain' }).end(receiver.answer.body);
      if (held) held.push(respond);
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

let quorum: RunningQuorum;
let browser: Browser;
let receiver: Receiver;

beforeAll(async () => {
  quorum = await startQuorum({
    env: {
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      // The eight attempts of a round (about 33 h apart in all) within about a second.
      WEBHOOK_RETRY_SCALE: '0.00001',
    },
  });
  browser = await launchChromium();
  receiver = await startReceiver();
});

afterAll(async () => {
  await receiver?.close();
  await browser?.close();
  await quorum?.stop();
});

async function logIn(page: Page, email: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Waits until the receiver has had `count` requests in all. */
async function receivedAtLeast(count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (receiver.received.length < count) {
    if (Date.now() > deadline) throw new Error(`the receiver got ${receiver.received.length} of ${count} requests`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The log's row of one event's delivery, in `status` if given. */
const rowOf = (log: Locator, eventId: string, status?: string) =>
  log.locator(`[data-testid="delivery-row"][data-event-id="${eventId}"]${status ? `[data-status="${status}"]` : ''}`);
const rowsIn = (log: Locator, status: string) => log.locator(`[data-testid="delivery-row"][data-status="${status}"]`);
const POLL = { timeout: 15_000 };

describe('the delivery log of the Webhooks page', () => {
  it('shows failed attempts with the answer, resends one, recovers the failed ones, pages back', async () => {
    const email = uniqueEmail('owner');
    const owner = await call<{ accessToken: string }>(quorum.baseUrl, 'mutation', 'auth.signUp', {
      email,
      password: PASSWORD,
      name: 'Olive Owner',
    });
    const { orgId } = await call<{ orgId: string }>(
      quorum.baseUrl,
      'mutation',
      'org.create',
      { name: 'Deliveries Inc', plan: 'pro' },
      owner.accessToken,
    );
    const url = `${receiver.url}/quorum`;
    await call(
      quorum.baseUrl,
      'mutation',
      'webhooks.create',
      { orgId, url, eventTypes: ['member.invited'] },
      owner.accessToken,
    );
    const invite = () =>
      call(
        quorum.baseUrl,
        'mutation',
        'members.invite',
        { orgId, email: uniqueEmail('invitee'), role: 'member' },
        owner.accessToken,
      );

    // One invitation, and a receiver that answers 500 to all eight attempts.
    receiver.answer = { status: 500, body: 'receiver down for maintenance' };
    await invite();
    await receivedAtLeast(1);
    const firstId = String(receiver.received[0]!.headers['webhook-id']);

    const context = await newContext(browser, quorum.baseUrl);
    const page = await context.newPage();
    await logIn(page, email);
    await page.waitForURL(new RegExp(`/orgs/${orgId}/seats$`));
    await page.getByRole('link', { name: 'Webhooks' }).click();
    const log = page.getByTestId('endpoint-panel').filter({ hasText: url }).getByTestId('endpoint-deliveries');
    const first = rowOf(log, firstId);
    // The log reloads itself while a delivery is pending.
    await rowOf(log, firstId, 'failed').waitFor();
    await first.getByText('8 attempts').waitFor();
    await first.getByText('answered 500').waitFor();
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual(Array(8).fill(firstId));

    // Its attempts: each answered 500, with the receiver's body and the headers sent.
    await first.getByRole('button', { name: /^Attempts of member\.invited/ }).click();
    const attempts = log.getByTestId('delivery-attempts');
    await expect.poll(() => attempts.getByTestId('attempt').count(), POLL).toBe(8);
    const attempt1 = attempts.getByTestId('attempt').first();
    await attempt1.getByText('Attempt 1').waitFor();
    await attempt1.getByText('Answered 500').waitFor();
    await attempt1.getByLabel('Response body of attempt 1').getByText('receiver down for maintenance').waitFor();
    await attempt1.getByText('Request headers').click();
    await attempt1.getByLabel('Request headers of attempt 1').getByText(`webhook-id: ${firstId}`).waitFor();
    await screenshot(page, 'webhook-deliveries', { phone: true });

    // Resend, once the receiver is back: delivered, with the same webhook-id.
    receiver.answer = { status: 200, body: 'thanks' };
    await first.getByRole('button', { name: /^Resend member\.invited/ }).click();
    await page
      .getByTestId('status')
      .getByText(/goes out again now/)
      .waitFor();
    await rowOf(log, firstId, 'delivered').waitFor();
    await first.getByText('9 attempts').waitFor();
    expect(receiver.received.at(-1)!.headers['webhook-id']).toBe(firstId);
    await attempts.getByTestId('attempt').nth(8).getByText('Answered 200').waitFor();
    await attempts.getByRole('button', { name: 'Close' }).click();

    // Two more fail all their attempts; the filter shows just those; recovering queues both.
    receiver.answer = { status: 503, body: 'still down' };
    const before = receiver.received.length;
    await invite();
    await invite();
    await receivedAtLeast(before + 16);
    await log.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => rowsIn(log, 'failed').count(), POLL).toBe(2);
    await log.getByLabel('Status', { exact: true }).selectOption('failed');
    await expect.poll(() => log.getByTestId('delivery-row').count(), POLL).toBe(2);
    await log.getByLabel('Status', { exact: true }).selectOption('');
    await expect.poll(() => log.getByTestId('delivery-row').count(), POLL).toBe(3);

    receiver.answer = { status: 204, body: '' };
    await log.getByRole('button', { name: 'Recover failed' }).click();
    await log.getByTestId('recover-result').getByText('Queued 2 failed deliveries to go out again.').waitFor();
    await expect.poll(() => rowsIn(log, 'delivered').count(), POLL).toBe(3);

    // Recovering again finds nothing to queue.
    await log.getByRole('button', { name: 'Recover failed' }).click();
    await log.getByTestId('recover-result').getByText('No failed delivery since then: nothing was queued.').waitFor();

    // A resend while an attempt is under way is refused, and says why.
    receiver.hold();
    const held = receiver.received.length;
    await invite();
    await receivedAtLeast(held + 1);
    const heldId = String(receiver.received.at(-1)!.headers['webhook-id']);
    await log.getByRole('button', { name: 'Refresh' }).click();
    const busy = rowOf(log, heldId);
    await busy.getByRole('button', { name: /^Resend member\.invited/ }).click();
    await log
      .getByRole('alert')
      .getByText(/An attempt of this delivery is under way/)
      .waitFor();
    receiver.answer = { status: 200, body: 'ok' };
    receiver.release();
    await rowOf(log, heldId, 'delivered').waitFor();

    // A page holds 20, newest first; "Older deliveries" brings the rest.
    const sent = receiver.received.length;
    for (let i = 0; i < 17; i++) await invite();
    await receivedAtLeast(sent + 17);
    await log.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => rowsIn(log, 'delivered').count(), POLL).toBe(20);
    expect(await log.getByTestId('delivery-row').last().getAttribute('data-event-id')).not.toBe(firstId);
    await log.getByRole('button', { name: 'Older deliveries' }).click();
    await expect.poll(() => log.getByTestId('delivery-row').count(), POLL).toBe(21);
    expect(await log.getByTestId('delivery-row').last().getAttribute('data-event-id')).toBe(firstId);
    await expect.poll(() => log.getByRole('button', { name: 'Older deliveries' }).count()).toBe(0);
    await context.close();
  });

  it('ran within the Content-Security-Policy', () => {
    expect(cspViolations()).toEqual([]);
  });
});
