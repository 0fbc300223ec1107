/**
 * The Webhooks page as an owner uses it: add an endpoint at a receiver on 127.0.0.1 (the
 * secret shown once), send a test ping and see the receiver's answer, pause and resume,
 * rotate the secret, delete after confirming. A member sees no Webhooks tab.
 */
import { Webhook } from 'standardwebhooks';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
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
let receiver: WebhookReceiver;

beforeAll(async () => {
  quorum = await startQuorum({ env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_LOOPBACK: 'true' } });
  browser = await launchChromium();
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await receiver?.close();
  await browser?.close();
  await quorum?.stop();
});

interface Session {
  accessToken: string;
}

async function logIn(page: Page, email: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
}

describe('the Webhooks page', () => {
  it('adds, pings, pauses, resumes, rotates and deletes an endpoint', async () => {
    const email = uniqueEmail('owner');
    const owner = await call<Session>(quorum.baseUrl, 'mutation', 'auth.signUp', {
      email,
      password: PASSWORD,
      name: 'Olive Owner',
    });
    const { orgId } = await call<{ orgId: string }>(
      quorum.baseUrl,
      'mutation',
      'org.create',
      { name: 'Hooks Inc', plan: 'pro' },
      owner.accessToken,
    );
    const context = await newContext(browser, quorum.baseUrl);
    const page = await context.newPage();
    await logIn(page, email);
    await page.waitForURL(new RegExp(`/orgs/${orgId}/seats$`));
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByText('No endpoints yet.').waitFor();

    // Add one: a URL, a description, two event types.
    const url = `${receiver.url}/quorum`;
    const form = page.getByRole('form', { name: 'Add webhook endpoint' });
    await form.getByLabel('Endpoint URL').fill(url);
    await form.getByLabel('Description').fill('CRM sync');
    await form.getByLabel('member.joined').check();
    await form.getByLabel('seat.assigned').check();
    await form.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = await page.getByTestId('webhook-secret').inputValue();
    expect(secret).toMatch(/^whsec_/);
    const panel = page.getByTestId('endpoint-panel').filter({ hasText: url });
    await panel.getByText('member.joined, seat.assigned').waitFor();
    await panel.getByText('Enabled').waitFor();
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await panel.getByTestId('endpoint-deliveries').waitFor();

    // A test ping reaches the receiver, signed with that secret.
    receiver.answerWith(200, 'pong');
    await panel.getByRole('button', { name: 'Send test ping' }).click();
    await panel.getByTestId('ping-result').filter({ hasText: 'answered 200' }).waitFor();
    await panel.getByText('pong').waitFor();
    const ping = receiver.received.at(-1)!;
    expect(new Webhook(secret).verify(ping.body, ping.headers as Record<string, string>)).toMatchObject({
      type: 'webhook.ping',
    });
    await screenshot(page, 'webhooks', { docs: true, phone: true });

    await panel.getByRole('button', { name: 'Pause' }).click();
    await panel.getByText('Paused').waitFor();
    await panel.getByRole('button', { name: 'Resume' }).click();
    await panel.getByText('Enabled').waitFor();

    // Rotate with an hour's overlap: a new secret, shown once.
    await panel.getByLabel('Previous secret keeps signing for').selectOption('3600');
    await panel.getByRole('button', { name: 'Rotate secret' }).click();
    await panel.getByText(/deliveries carry signatures from both/).waitFor();
    const rotated = await panel.getByTestId('webhook-secret').inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);

    // A bad URL is refused in the form, before any call.
    await panel.getByRole('button', { name: 'Edit' }).click();
    await panel.getByLabel('Endpoint URL').fill('ftp://files.example.com');
    await panel.getByRole('button', { name: 'Save' }).click();
    await panel.locator('.field-error').first().waitFor();
    await panel.getByRole('button', { name: 'Cancel' }).click();

    await panel.getByRole('button', { name: `Delete ${url}` }).click();
    await panel.getByRole('button', { name: `Delete ${url}?` }).click();
    await page.getByText('No endpoints yet.').waitFor();
    await context.close();
  });

  it('is not offered to a member', async () => {
    const owner = await call<Session>(quorum.baseUrl, 'mutation', 'auth.signUp', {
      email: uniqueEmail('owner'),
      password: PASSWORD,
      name: 'Olive Owner',
    });
    const { orgId } = await call<{ orgId: string }>(
      quorum.baseUrl,
      'mutation',
      'org.create',
      { name: 'Members Inc', plan: 'pro' },
      owner.accessToken,
    );
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
    const context = await newContext(browser, quorum.baseUrl);
    const page = await context.newPage();
    await logIn(page, memberEmail);
    await page.waitForURL(new RegExp(`/orgs/${orgId}/seats$`));
    expect(await page.getByRole('link', { name: 'Webhooks' }).count()).toBe(0);
    await page.goto(`/orgs/${orgId}/webhooks`);
    await page
      .getByTestId('not-allowed')
      .filter({ hasText: 'Only owners and admins can see or manage webhook endpoints; your role is member.' })
      .waitFor();
    await context.close();
  });

  it('ran within the Content-Security-Policy', () => {
    expect(cspViolations()).toEqual([]);
  });
});
