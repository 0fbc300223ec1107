import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScriptedSession } from '../support/scripted-session';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

/** The same command as the embedded default, with DATABASE_URL and NATS_URL set. */
describe('npm start against PostgreSQL and NATS JetStream', () => {
  let q: TestQuorum;
  beforeAll(async () => {
    q = await startTestQuorum('servers');
  });
  afterAll(async () => {
    await q?.stop();
  });

  it('runs the scripted session through the relay, JetStream and the projector', async () => {
    const session = await runScriptedSession(q.http);
    const ready = await fetch(`${q.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const report = (await ready.json()) as { checks: Record<string, { ok: boolean; detail?: { leader?: boolean } }> };
    expect(report.checks.relay).toMatchObject({ ok: true, detail: { leader: true } });
    const events = await q.http.query(
      'events.list',
      { orgId: session.orgId, limit: 100 },
      { token: session.ownerToken },
    );
    expect(events.events.map((e: { type: string }) => e.type)).toEqual([
      'organization.created',
      'member.joined',
      'seats.purchased',
      'member.invited',
      'member.joined',
      'seat.assigned',
    ]);
    // The envelope integrators get: org, versions, positions ascending, actor and correlation.
    for (const e of events.events) {
      expect(e).toMatchObject({ orgId: session.orgId, version: 1, actor: { kind: 'user' } });
      expect(e.correlationId).toBeTypeOf('string');
    }
    const positions = events.events.map((e: { position: string }) => BigInt(e.position));
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    const newestFirst = await q.http.query(
      'events.list',
      { orgId: session.orgId, order: 'desc', limit: 2 },
      { token: session.ownerToken },
    );
    expect(newestFirst.events.map((e: { type: string }) => e.type)).toEqual(['seat.assigned', 'member.joined']);
    const nextPage = await q.http.query(
      'events.list',
      { orgId: session.orgId, order: 'desc', limit: 2, before: newestFirst.next },
      { token: session.ownerToken },
    );
    expect(nextPage.events.map((e: { type: string }) => e.type)).toEqual(['member.invited', 'seats.purchased']);
    const onlySeats = await q.http.query(
      'events.list',
      { orgId: session.orgId, types: ['seats.purchased', 'seat.assigned'] },
      { token: session.ownerToken },
    );
    expect(onlySeats.events.map((e: { type: string }) => e.type)).toEqual(['seats.purchased', 'seat.assigned']);
  });
});
