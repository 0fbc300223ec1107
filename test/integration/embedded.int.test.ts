import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startQuorum } from '@quorum/quorum/app';
import { QuorumEnvSchema } from '@quorum/quorum/env';
import { createHttpClient } from '../support/http-client';
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
});
