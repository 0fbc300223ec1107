/**
 * Webhook endpoints on a Quorum configured as in production (`WEBHOOK_ALLOW_HTTP` and
 * `WEBHOOK_ALLOW_LOOPBACK` off): loopback, private, link-local and metadata addresses, names
 * resolving to loopback and plain http are refused when an endpoint is created or changed,
 * with the guard's reason, and nothing is appended or stored. Names are resolved; nothing is
 * connected to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../support/http-client';
import { createOrg, signUp, type TestUser } from '../support/people';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;
let owner: TestUser;
let orgId: string;

beforeAll(async () => {
  q = await startTestQuorum('webhook_ssrf', { WEBHOOK_ALLOW_HTTP: 'false', WEBHOOK_ALLOW_LOOPBACK: 'false' });
  owner = await signUp(q.http, 'owner');
  ({ orgId } = await createOrg(q.http, owner));
}, 60_000);

afterAll(async () => {
  await q?.stop();
});

async function secretsOf(org: string): Promise<number> {
  const { rows } = await q.app.sql.query<{ n: string }>(
    'SELECT count(*)::text AS n FROM webhook_secrets WHERE org_id = $1',
    [org],
  );
  return Number(rows[0]!.n);
}

describe('endpoints that would reach the inside are refused', () => {
  it.each([
    ['https://127.0.0.1/hook', /127\.0\.0\.1 is a loopback address/],
    ['https://[::1]:8443/hook', /::1 is a loopback address/],
    ['https://10.0.0.1/hook', /10\.0\.0\.1 is a private, link-local or reserved address/],
    ['https://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a private, link-local or reserved address/],
    ['https://metadata.google.internal/computeMetadata/v1/', /cloud metadata service/],
    ['https://localhost:8443/hook', /localhost resolves to .* loopback address/],
  ])('%s', async (url, message) => {
    const head = await settledHead(q);
    const f = await failure(q.http.mutation('webhooks.create', { orgId, url }, { token: owner.token }));
    expect(f).toMatchObject({ status: 400, code: 'BAD_REQUEST', reason: 'webhooks.address_not_allowed' });
    expect(f.message).toMatch(message);
    expect(await settledHead(q)).toBe(head);
    expect(await secretsOf(orgId)).toBe(0);
  });

  it('plain http, unless allowed', async () => {
    const f = await failure(
      q.http.mutation('webhooks.create', { orgId, url: 'http://1.1.1.1/hook' }, { token: owner.token }),
    );
    expect(f).toMatchObject({ code: 'BAD_REQUEST', reason: 'webhooks.scheme_not_allowed' });
    expect(f.message).toMatch(/https/);
  });

  it('a name that does not resolve', async () => {
    const f = await failure(
      q.http.mutation('webhooks.create', { orgId, url: 'https://quorum-test.invalid/hook' }, { token: owner.token }),
    );
    expect(f).toMatchObject({ code: 'BAD_REQUEST', reason: 'webhooks.unresolvable' });
  });

  it('a change to such an address, on an endpoint at a public one', async () => {
    // An address literal: accepted without resolving or connecting anywhere.
    const created = await q.http.mutation(
      'webhooks.create',
      { orgId, url: 'https://1.1.1.1/quorum' },
      { token: owner.token },
    );
    const head = await settledHead(q);
    for (const url of ['https://10.0.0.1/hook', 'https://localhost/hook', 'http://1.1.1.1/quorum']) {
      const f = await failure(
        q.http.mutation('webhooks.update', { orgId, endpointId: created.endpoint.id, url }, { token: owner.token }),
      );
      expect(f, url).toMatchObject({ code: 'BAD_REQUEST' });
      expect(f.reason, url).toMatch(/^webhooks\.(address|scheme)_not_allowed$/);
    }
    expect(await settledHead(q)).toBe(head);
    const got = await q.http.query(
      'webhooks.get',
      { orgId, endpointId: created.endpoint.id, minPosition: created.position },
      { token: owner.token },
    );
    expect(got.url).toBe('https://1.1.1.1/quorum');
  });
});
