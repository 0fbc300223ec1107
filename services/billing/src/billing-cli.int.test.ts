/**
 * The operators' command line over the billing sync's dead letters, as an operator runs it:
 * `dead-letters` lists them with Stripe's error, `retry` sends the call again (through the
 * recording proxy in front of stripe-mock) and resolves the letter, `skip` records
 * `billing.sync_skipped`, and a malformed command changes nothing.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { streamIds } from '@quorum/domain';
import { openConsumerTestEnv, TEST_NATS_URL, type ConsumerTestEnv } from '@quorum/relay/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { currentPeriod } from './testing/billing-test-env';
import { startStripeProxy, testStripeEnv, type StripeProxy } from './testing/stripe-proxy';

const SERVICE_DIR = fileURLToPath(new URL('..', import.meta.url));
let env: ConsumerTestEnv;
let proxy: StripeProxy;

beforeAll(async () => {
  env = await openConsumerTestEnv('billing-cli', 'billing');
  proxy = await startStripeProxy();
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await env?.close();
});

/** Runs the command line; asynchronously, since the proxy it calls answers from this process. */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/billing-cli.ts', ...args], {
    cwd: SERVICE_DIR,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: env.databaseUrl,
      NATS_URL: TEST_NATS_URL,
      ...testStripeEnv(proxy.url),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A usage report Stripe refused, held as the billing process holds it. */
async function deadLetter(orgId: string) {
  const cause = randomUUID();
  const request = {
    usageEventId: cause,
    orgId,
    period: currentPeriod(),
    seconds: 90,
    minutes: 2,
    timestamp: new Date().toISOString(),
  };
  await env.sql.query(
    `INSERT INTO billing_dead_letters (cause_event_id, operation, org_id, cause_type, cause_position, request, error, attempts, failed_at)
     VALUES ($1, 'usage', $2, 'usage.recorded', 7, $3, $4, 1, now())`,
    [
      cause,
      orgId,
      JSON.stringify(request),
      JSON.stringify({
        type: 'StripeInvalidRequestError',
        code: 'resource_missing',
        message: 'No such customer: cus_gone',
        statusCode: 400,
        requestId: 'req_9',
      }),
    ],
  );
  return cause;
}

it('lists, retries and skips dead letters, and refuses a malformed command without touching them', async () => {
  const orgId = randomUUID();
  await env.sql.query(`INSERT INTO billing_accounts (org_id, customer_id) VALUES ($1, 'cus_test_cli')`, [orgId]);
  const first = await deadLetter(orgId);
  const second = await deadLetter(orgId);

  const listed = await cli('dead-letters');
  expect(listed.code, listed.stderr).toBe(0);
  for (const cause of [first, second])
    expect(listed.stdout).toContain(`${cause} usage org ${orgId} usage.recorded attempts 1 open`);
  expect(listed.stdout).toContain('400 StripeInvalidRequestError resource_missing: No such customer: cus_gone');

  const noReason = await cli('skip', second, 'usage');
  expect(noReason.code).toBe(2);
  expect(noReason.stderr).toMatch(/skip needs --reason/);
  const badId = await cli('retry', 'evt_1', 'usage');
  expect(badId.code).toBe(2);

  const retried = await cli('retry', first, 'usage', '--by', 'ops@example.com');
  expect(retried.code, retried.stderr).toBe(0);
  expect(retried.stdout).toBe('sent: Stripe took it\n');
  const sent = proxy.calls.filter((c) => c.path === '/v1/billing/meter_events' && c.params.identifier === first);
  expect(
    sent.map((c) => [c.status, c.idempotencyKey, c.params['payload[value]'], c.params['payload[stripe_customer_id]']]),
  ).toEqual([[200, `quorum-usage-${first}-2`, '2', 'cus_test_cli']]);

  const skipped = await cli('skip', second, 'usage', '--reason', 'Credited by hand.', '--by', 'ops@example.com');
  expect(skipped.code, skipped.stderr).toBe(0);
  expect(proxy.calls.some((c) => c.params.identifier === second)).toBe(false);

  const { rows } = await env.sql.query<{ cause_event_id: string; resolution: string; resolved_by: string }>(
    `SELECT cause_event_id, resolution, resolved_by FROM billing_dead_letters WHERE org_id = $1 ORDER BY resolution`,
    [orgId],
  );
  expect(rows).toEqual([
    { cause_event_id: first, resolution: 'retried', resolved_by: 'ops@example.com' },
    { cause_event_id: second, resolution: 'skipped', resolved_by: 'ops@example.com' },
  ]);
  const events = await env.store.readStream(streamIds.billing(orgId));
  expect(events.map((e) => e.type)).toEqual(['billing.usage_reported', 'billing.sync_skipped']);
  expect(events[1]!.data).toMatchObject({ operation: 'usage', by: 'ops@example.com', reason: 'Credited by hand.' });
  expect((await cli('dead-letters')).stdout).toBe('no dead letters\n');
}, 120_000);
