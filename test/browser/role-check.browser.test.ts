/**
 * Roles in the console: a `member` sees the organization but no control to buy seats (and is
 * told why), and the API refuses the purchase even when the member's own session calls it.
 */
import type { Browser } from 'playwright-core';
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

let quorum: RunningQuorum;
let browser: Browser;

beforeAll(async () => {
  quorum = await startQuorum();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await quorum?.stop();
});

interface Session {
  accessToken: string;
  user: { id: string };
}

describe('a member in the console', () => {
  it('has no control to buy seats, and the API refuses them', async () => {
    // Set-up over the API: an owner, an organization with seats, and a member.
    const owner = await call<Session>(quorum.baseUrl, 'mutation', 'auth.signUp', {
      email: uniqueEmail('owner'),
      password: PASSWORD,
      name: 'Olive Owner',
    });
    const { orgId } = await call<{ orgId: string }>(
      quorum.baseUrl,
      'mutation',
      'org.create',
      { name: 'Globex', plan: 'pro' },
      owner.accessToken,
    );
    await call(quorum.baseUrl, 'mutation', 'seats.purchase', { orgId, quantity: 3 }, owner.accessToken);
    const memberEmail = uniqueEmail('member');
    const { invitationId, link } = await call<{ invitationId: string; link: string }>(
      quorum.baseUrl,
      'mutation',
      'members.invite',
      { orgId, email: memberEmail, role: 'member' },
      owner.accessToken,
    );
    const member = await call<Session>(quorum.baseUrl, 'mutation', 'auth.signUp', {
      email: memberEmail,
      password: PASSWORD,
      name: 'Max Member',
    });
    await call(
      quorum.baseUrl,
      'mutation',
      'members.accept',
      { orgId, invitationId, token: link.slice(link.lastIndexOf('/') + 1) },
      member.accessToken,
    );

    // The member logs in through the UI.
    const context = await newContext(browser, quorum.baseUrl);
    const page = await context.newPage();
    await page.goto('/login');
    await page.getByLabel('Email').fill(memberEmail);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    // The server's refusal, in words.
    await page
      .getByRole('alert')
      .filter({ hasText: /password/i })
      .waitFor();
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(new RegExp(`/orgs/${orgId}/seats$`));
    await expect.poll(() => page.getByTestId('seats-purchased').textContent()).toBe('3');

    // No buy or release control, and the reason is given.
    expect(await page.getByRole('button', { name: 'Buy seats' }).count()).toBe(0);
    expect(await page.getByLabel('Seats to buy').count()).toBe(0);
    await page
      .getByTestId('not-allowed')
      .filter({ hasText: 'Only owners and billing members can buy or release seats; your role is member.' })
      .waitFor();
    // Nor can a member assign seats, invite, or read the event log.
    expect(await page.getByRole('button', { name: /Assign a seat/ }).count()).toBe(0);
    await screenshot(page, 'seats-member-role');
    await page.getByRole('link', { name: 'Members' }).click();
    expect(await page.getByRole('button', { name: 'Send invitation' }).count()).toBe(0);
    await page
      .getByTestId('not-allowed')
      .filter({ hasText: /invite people/ })
      .waitFor();
    await page.getByRole('link', { name: 'Activity' }).click();
    await page
      .getByTestId('not-allowed')
      .filter({ hasText: /read the event log/ })
      .waitFor();

    // The API refuses the purchase for the member's own browser session (cookie).
    const refused = await page.evaluate(async (id) => {
      const res = await fetch('/trpc/seats.purchase', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ orgId: id, quantity: 1 }),
      });
      const body = (await res.json()) as { error?: { data?: { code?: string; reason?: string } } };
      return { status: res.status, code: body.error?.data?.code, reason: body.error?.data?.reason };
    }, orgId);
    expect(refused).toEqual({ status: 403, code: 'FORBIDDEN', reason: 'auth.forbidden' });
    const seats = await call<{ purchased: number }>(quorum.baseUrl, 'query', 'seats.get', { orgId }, owner.accessToken);
    expect(seats.purchased).toBe(3);
    await context.close();
  });

  it('ran within the Content-Security-Policy', () => {
    expect(cspViolations()).toEqual([]);
  });
});
