import { createQuorumClient } from '@quorum/api';
import type { AppRouter } from '@quorum/gateway/router';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

/** The typed client that the web app and TypeScript integrators use. */
describe('@quorum/api typed client', () => {
  let q: TestQuorum;
  beforeAll(async () => {
    q = await startTestQuorum('apiclient');
  });
  afterAll(async () => {
    await q?.stop();
  });

  it('calls procedures with types end to end, batched, and surfaces errors with their codes', async () => {
    const anonymous = createQuorumClient<AppRouter>({ baseUrl: q.baseUrl });
    const session = await anonymous.auth.signUp.mutate({
      email: `typed-${Date.now()}@example.com`,
      password: 'typed and long enough',
      name: 'Ty',
    });
    let token: string | undefined = session.accessToken;
    const client = createQuorumClient<AppRouter>({ baseUrl: q.baseUrl, token: () => token });
    const { orgId, position } = await client.org.create.mutate({ name: 'Typed Org', plan: 'business' });
    const [org, seats] = await Promise.all([
      client.org.get.query({ orgId, minPosition: position }),
      client.seats.get.query({ orgId, minPosition: position }),
    ]);
    expect(org).toMatchObject({ orgId, name: 'Typed Org', plan: 'business', status: 'trialing', yourRole: 'owner' });
    expect(org.entitlements.maxSeats).toBe(250);
    expect(seats).toMatchObject({ purchased: 0, planCap: 250 });

    const err = await client.seats.purchase.mutate({ orgId, quantity: 100_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCClientError);
    expect((err as TRPCClientError<never>).data).toMatchObject({
      code: 'BAD_REQUEST',
      fieldErrors: [expect.objectContaining({ path: 'quantity' })],
    });

    token = undefined;
    const unauthorized = await client.org.get.query({ orgId }).catch((e: unknown) => e);
    expect((unauthorized as TRPCClientError<never>).data).toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
