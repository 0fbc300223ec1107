import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startQuorum } from '@quorum/quorum/app';
import { QuorumEnvSchema } from '@quorum/quorum/env';
import { randomBytes } from 'node:crypto';
import { streamIds } from '@quorum/domain';
import { signServiceToken } from '@quorum/signaling/tokens';
import { eventually } from '../support/eventually';
import { createHttpClient } from '../support/http-client';
import { addMember, createOrg, signUp } from '../support/people';
import { runScriptedSession } from '../support/scripted-session';

/** The embedded default: no servers, PGlite under DATA_DIR, the in-process bus. */
describe('npm start without environment (embedded)', () => {
  let dataDir: string;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the scripted session over plain HTTP and keeps the data across a restart', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'quorum-embedded-'));
    // The defaults but the SFU's media ports: the fixed 44,400 range would collide with any other
    // Quorum on this machine (another test run, a developer's npm start).
    const env = QuorumEnvSchema.parse({
      DATA_DIR: dataDir,
      PORT: '0',
      LOG_LEVEL: 'warn',
      SFU_WORKERS: '1',
      SFU_RTC_PORT: 'auto',
    });
    const logger = pino({ level: 'warn' });

    const first = await startQuorum(env, logger);
    const http = createHttpClient(`http://127.0.0.1:${first.port}`);
    const health = await fetch(`http://127.0.0.1:${first.port}/health/ready`);
    expect(health.status).toBe(200);
    const session = await runScriptedSession(http);
    await first.close();

    const second = await startQuorum(env, logger);
    try {
      const again = createHttpClient(`http://127.0.0.1:${second.port}`);
      // The access token is still valid: the auth secret was kept in DATA_DIR.
      const seats = await again.query('seats.get', { orgId: session.orgId }, { token: session.ownerToken });
      expect(seats).toMatchObject({ purchased: 5, assigned: 1 });
      const orgs = await again.query('org.list', {}, { token: session.memberToken });
      expect(orgs).toEqual([expect.objectContaining({ orgId: session.orgId, role: 'member' })]);
    } finally {
      await second.close();
    }
  });

  it('meters a meeting of three: its usage shows on the summary, and each CSV row names its session events', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'quorum-embedded-metering-'));
    const serviceSecret = randomBytes(32).toString('hex');
    const env = QuorumEnvSchema.parse({
      DATA_DIR: dir,
      PORT: '0',
      LOG_LEVEL: 'warn',
      SFU_WORKERS: '1',
      SFU_RTC_PORT: 'auto',
      SFU_SERVICE_SECRET: serviceSecret,
      // Settle 2 s behind the clock instead of 150, so the meeting's own minutes show at once.
      METERING_SETTLE_LAG_SECONDS: '2',
      METERING_TICK_MS: '100',
    });
    const app = await startQuorum(env, pino({ level: 'warn' }));
    try {
      const http = createHttpClient(`http://127.0.0.1:${app.port}`);
      const owner = await signUp(http, 'embedded-owner');
      const { orgId } = await createOrg(http, owner, 'pro');
      await http.mutation('seats.purchase', { orgId, quantity: 3 }, { token: owner.token });
      await http.mutation('seats.assign', { orgId, userId: owner.userId }, { token: owner.token });
      const others = [await addMember(http, orgId, owner, 'member'), await addMember(http, orgId, owner, 'member')];
      const { sessionId } = await http.mutation(
        'meetings.create',
        { orgId, title: 'Embedded' },
        { token: owner.token },
      );
      const sfu = { serviceToken: signServiceToken('sfu:test', serviceSecret, Math.floor(Date.now() / 1000)) };
      for (const who of [owner, ...others]) {
        await http.mutation(
          'sfu.participantJoined',
          { orgId, sessionId, participantId: who.userId, displayName: 'P' },
          sfu,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      for (const who of others) {
        await http.mutation(
          'sfu.participantLeft',
          { orgId, sessionId, participantId: who.userId, reason: 'left' },
          sfu,
        );
      }
      await http.mutation('meetings.end', { orgId, sessionId }, { token: owner.token });

      const sessionEvents = new Set((await app.store.readStream(streamIds.session(sessionId))).map((e) => e.id));
      const period = new Date().toISOString().slice(0, 7).replace('-', '');
      const summary = await eventually(async () => {
        const s = await http.query('usage.summary', { orgId, period, groupBy: 'meter' }, { token: owner.token });
        const seconds = (meter: string) =>
          s.totals.find((t: { meter: string; seconds: number }) => t.meter === meter)?.seconds ?? 0;
        expect(seconds('meeting_minutes')).toBeGreaterThanOrEqual(2);
        expect(seconds('participant_minutes')).toBeGreaterThanOrEqual(3 * seconds('meeting_minutes') - 3);
        return s;
      }, 20_000);
      expect(summary.totals).toHaveLength(2);

      const csv = await (
        await fetch(`http://127.0.0.1:${app.port}/usage/export.csv?orgId=${orgId}&period=${period}`, {
          headers: { authorization: `Bearer ${owner.token}` },
        })
      ).text();
      const [header, ...rows] = csv.trim().split('\r\n');
      const columns = header!.split(',');
      expect(rows.length).toBeGreaterThan(3);
      for (const row of rows) {
        const sources = row.split(',')[columns.indexOf('sources')]!.split(' ');
        for (const source of sources) expect(sessionEvents.has(source)).toBe(true);
      }
    } finally {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
