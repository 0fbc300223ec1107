/**
 * The owner's whole journey in the web console, against the real stack: sign up, create an
 * organization, buy seats, invite someone and accept in a second browser (as the invitee),
 * assign a seat, change a role and the plan, create and revoke an API key, then unassign,
 * release and remove; an activity page left open in another tab shows each event appear live,
 * without a reload (API keys are not events). Screenshots of every page.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  quorum = await startQuorum();
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await quorum?.stop();
});

async function context(): Promise<BrowserContext> {
  const c = await newContext(browser, quorum.baseUrl);
  contexts.push(c);
  return c;
}

/** The status line (aria-live) says `text`. */
async function expectStatus(page: Page, text: string | RegExp) {
  await page.getByTestId('status').filter({ hasText: text }).waitFor();
}

/** The live activity tab shows an event of `type` that it did not show before, without reloading. */
async function expectLive(activity: Page, type: string, count = 1) {
  await expect
    .poll(() => activity.locator(`[data-testid="event-list"] li[data-type="${type}"]`).count(), { timeout: 15_000 })
    .toBeGreaterThanOrEqual(count);
}

describe('the owner journey', () => {
  it('signs up, creates an organization, manages seats, people, plan and keys, and sees it all live', async () => {
    const owner = await context();
    const page = await owner.newPage();
    const ownerEmail = uniqueEmail('ada');
    const bobEmail = uniqueEmail('bob');

    // Sign up (the app sends a visitor without a session to the login page first).
    await page.goto('/');
    await page.waitForURL(/\/login/);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await screenshot(page, 'login');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    // Forms validate with the server's schemas before sending.
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByText('Password must have at least 10 characters').waitFor();
    await page.getByLabel('Your name').fill('Ada Owner');
    await page.getByLabel('Email').fill(ownerEmail);
    await page.getByLabel('Password').fill(PASSWORD);
    await screenshot(page, 'sign-up', { docs: true, phone: true });
    await page.getByRole('button', { name: 'Sign up' }).click();

    // The address is not confirmed yet; the link mailed at sign-up confirms it.
    await page.waitForURL(/\/orgs\/new$/);
    await page.getByTestId('verify-email-banner').waitFor();
    const [verification] = await quorum.mailTo(ownerEmail);
    const verifyLink = /http:\/\/\S+\/verify-email\/qev_[A-Za-z0-9_-]{43}/.exec(verification?.text ?? '')?.[0];
    expect(verifyLink, verification?.text).toBeDefined();
    await page.goto(verifyLink!);
    await page.getByRole('button', { name: 'Confirm email address' }).click();
    await page.getByTestId('email-verified').waitFor();
    await expect.poll(() => page.getByTestId('verify-email-banner').count()).toBe(0);

    // Create the organization.
    await page.goto('/orgs/new');
    await page.waitForURL(/\/orgs\/new$/);
    await page.getByLabel('Organization name').fill('Acme Robotics');
    await page.getByLabel('Plan').selectOption('pro');
    await screenshot(page, 'create-organization');
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.waitForURL(/\/orgs\/[0-9a-f-]{36}\/seats$/);
    const orgId = /\/orgs\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await expectStatus(page, 'Created Acme Robotics.');

    // A second tab follows the activity live for the rest of the journey.
    const activity = await owner.newPage();
    await activity.goto(`/orgs/${orgId}/activity`);
    await activity.getByTestId('live-state').filter({ hasText: 'Live' }).waitFor();
    await expectLive(activity, 'organization.created');
    await activity.evaluate(() => ((globalThis as unknown as { journeyMarker: boolean }).journeyMarker = true));
    let activityLoads = 0;
    activity.on('load', () => (activityLoads += 1));

    // Buy seats.
    await page.getByLabel('Seats to buy').fill('5');
    await page.getByRole('button', { name: 'Buy seats' }).click();
    await expectStatus(page, 'Bought 5 seats.');
    await expect.poll(() => page.getByTestId('seats-purchased').textContent()).toBe('5');
    await expectLive(activity, 'seats.purchased');
    // A refusal from the server is shown in words: the pro plan caps at 25 seats.
    await page.getByLabel('Seats to buy').fill('100');
    await page.getByRole('button', { name: 'Buy seats' }).click();
    await expectStatus(page, /at most 25 seats/);
    await page
      .getByRole('alert')
      .filter({ hasText: /at most 25 seats/ })
      .waitFor();

    // Invite Bob and copy the invitation link.
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByLabel('Email').fill(bobEmail);
    await page.getByLabel('Role', { exact: true }).selectOption('member');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await expectStatus(page, `Invited ${bobEmail} as member.`);
    const link = await page.getByTestId('invitation-link').inputValue();
    expect(link).toMatch(new RegExp(`^${quorum.baseUrl}/invite/${orgId}/[0-9a-f-]{36}/qinv_[A-Za-z0-9_-]{43}$`));
    // The same link went to Bob's mailbox (development mail: the data directory).
    const [invitationMail] = await quorum.mailTo(bobEmail);
    expect(invitationMail?.subject).toBe('You are invited to join Acme Robotics on Quorum');
    expect(invitationMail?.text).toContain(link);
    await page.getByTestId(`invitation-${bobEmail}`).waitFor();
    await expectLive(activity, 'member.invited');

    // Bob opens the link in his own browser, signs up (the target is kept) and joins.
    const invitee = await context();
    const bob = await invitee.newPage();
    await bob.goto(link);
    await bob.waitForURL(/\/login\?next=/);
    await bob.getByText('You have an invitation.').waitFor();
    await bob.getByRole('link', { name: 'Create an account' }).click();
    await bob.getByLabel('Your name').fill('Bob Member');
    await bob.getByLabel('Email').fill(bobEmail);
    await bob.getByLabel('Password').fill(PASSWORD);
    await bob.getByRole('button', { name: 'Sign up' }).click();
    await bob.waitForURL(new RegExp(`/invite/${orgId}/`));
    await bob.getByRole('heading', { name: 'Join an organization' }).waitFor();
    await screenshot(bob, 'invitation');
    await bob.getByRole('button', { name: 'Join organization' }).click();
    await bob.waitForURL(new RegExp(`/orgs/${orgId}/seats$`));
    await bob.locator('.org-name').getByText('Acme Robotics').waitFor();
    await screenshot(bob, 'seats-as-member');
    await expectLive(activity, 'member.joined', 2);

    // The owner sees Bob and gives him a seat.
    await page.getByRole('link', { name: 'Seats' }).click();
    await page.getByRole('button', { name: `Assign a seat to ${bobEmail}` }).click();
    await expectStatus(page, `${bobEmail} has a seat.`);
    await expect.poll(() => page.getByTestId('seats-assigned').textContent()).toBe('1');
    await page.getByTestId(`seat-row-${bobEmail}`).getByText('Has a seat').waitFor();
    await expectLive(activity, 'seat.assigned');
    await screenshot(page, 'seats', { docs: true, phone: true });

    // Members page with Bob; change his role and back.
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByTestId(`member-row-${bobEmail}`).waitFor();
    await page.getByLabel(`Role of ${bobEmail}`).selectOption('host');
    await page.getByRole('button', { name: `Save role of ${bobEmail}` }).click();
    await expectStatus(page, `${bobEmail} is now host.`);
    await expectLive(activity, 'member.role_changed');
    await screenshot(page, 'members', { docs: true, phone: true });

    // Change the plan.
    await page.getByRole('link', { name: 'Plan' }).click();
    await expect.poll(() => page.getByTestId('current-plan').textContent()).toBe('Pro');
    await page
      .getByTestId('trial-days')
      .getByText(/14 days left/)
      .waitFor();
    await page.getByLabel('New plan').selectOption('business');
    await page.getByRole('button', { name: 'Change plan' }).click();
    await expectStatus(page, 'The plan is now Business.');
    await expect.poll(() => page.getByTestId('current-plan').textContent()).toBe('Business');
    await expectLive(activity, 'organization.plan_changed');
    await screenshot(page, 'plan', { docs: true, phone: true });

    // Create an API key (the secret is shown once), then revoke it.
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Key name').fill('CI deploys');
    await page.getByLabel('Role of the key').selectOption('billing');
    await page.getByRole('button', { name: 'Create key' }).click();
    await expectStatus(page, /Created the key CI deploys/);
    const secret = await page.getByTestId('api-key-secret').inputValue();
    expect(secret).toMatch(/^qk_[0-9a-f]{32}_/);
    await page.getByTestId('key-row-CI deploys').waitFor();
    await screenshot(page, 'api-keys', { docs: true, phone: true });
    // The key works until it is revoked.
    const seatsWithKey = await fetch(
      `${quorum.baseUrl}/trpc/seats.get?input=${encodeURIComponent(JSON.stringify({ orgId }))}`,
      { headers: { 'x-api-key': secret } },
    );
    expect(seatsWithKey.status).toBe(200);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await expect.poll(() => page.getByTestId('api-key-secret').count()).toBe(0);
    await page.getByRole('button', { name: 'Revoke CI deploys' }).click();
    await page.getByRole('button', { name: 'Revoke CI deploys?' }).click();
    await expectStatus(page, /Revoked CI deploys/);
    await page
      .getByTestId('key-row-CI deploys')
      .getByText(/^Revoked/)
      .waitFor();
    const afterRevoke = await fetch(
      `${quorum.baseUrl}/trpc/seats.get?input=${encodeURIComponent(JSON.stringify({ orgId }))}`,
      { headers: { 'x-api-key': secret } },
    );
    expect(afterRevoke.status).toBe(401);
    await expectLive(activity, 'api_key.created');
    await expectLive(activity, 'api_key.revoked');

    // The activity tab saw every step without a reload, newest first.
    expect(activityLoads).toBe(0);
    expect(await activity.evaluate(() => (globalThis as unknown as { journeyMarker?: boolean }).journeyMarker)).toBe(
      true,
    );
    const types = await activity
      .locator('[data-testid="event-list"] li')
      .evaluateAll((items) => items.map((li) => li.getAttribute('data-type')));
    expect(types.slice(0, 9)).toEqual([
      'api_key.revoked',
      'api_key.created',
      'organization.plan_changed',
      'member.role_changed',
      'seat.assigned',
      'member.joined',
      'member.invited',
      'seats.purchased',
      'member.joined',
    ]);
    await screenshot(activity, 'activity', { docs: true, phone: true });
    // Filter by type.
    await activity.getByLabel('Event type').selectOption('seats.purchased');
    await expect.poll(() => activity.locator('[data-testid="event-list"] li').count()).toBe(1);

    await activity.getByLabel('Event type').selectOption('');

    // Take the seat back, release a seat, and remove Bob.
    await page.getByRole('link', { name: 'Seats' }).click();
    await page.getByRole('button', { name: `Unassign seat from ${bobEmail}` }).click();
    await expectStatus(page, `${bobEmail} no longer has a seat.`);
    await expectLive(activity, 'seat.unassigned');
    await page.getByLabel('Seats to release').fill('1');
    await page.getByRole('button', { name: 'Release seats' }).click();
    await expectStatus(page, 'Released 1 seat.');
    await expect.poll(() => page.getByTestId('seats-purchased').textContent()).toBe('4');
    await expectLive(activity, 'seats.released');
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('button', { name: `Remove ${bobEmail}` }).click();
    await page.getByRole('button', { name: `Remove ${bobEmail}?` }).click();
    await expectStatus(page, `Removed ${bobEmail}.`);
    await expect.poll(() => page.getByTestId(`member-row-${bobEmail}`).count()).toBe(0);
    await expectLive(activity, 'member.removed');
    expect(activityLoads).toBe(0);

    // A reload keeps the session; logging out ends it.
    await page.reload();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login$/);
    await page.goto(`/orgs/${orgId}/seats`);
    await page.waitForURL(/\/login\?next=/);
  });

  it('ran within the Content-Security-Policy', () => {
    expect(cspViolations()).toEqual([]);
  });
});
