import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScriptedSession } from './testing/scripted-session';
import { startTestQuorum, type TestQuorum } from './testing/test-quorum';

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
    const events = await q.http.query('events.list', { orgId: session.orgId, limit: 100 }, { token: session.ownerToken });
    expect(events.events.map((e: { type: string }) => e.type)).toEqual([
      'organization.created',
      'member.joined',
      'seats.purchased',
      'member.invited',
      'member.joined',
      'seat.assigned',
    ]);
  });
});
