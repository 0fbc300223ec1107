import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { SignalingClient } from '@quorum/sfu/signaling/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually';
import { createHttpClient, TrpcCallError } from '../support/http-client';
import { freePort } from '../support/free-port';
import { createTestDatabase } from '../support/test-database';

const MAIN = fileURLToPath(new URL('../../services/quorum/src/main.ts', import.meta.url));

/** Starts Quorum as its own process on `env`; resolves once /health/ready answers 200. */
async function startProcess(env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Quorum exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`Quorum did not become ready: ${stderr}`);
}

/** What every restart of one test's Quorum shares: its database, NATS namespace and secrets. */
function processEnv(databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    NATS_NAMESPACE: `crash${randomBytes(6).toString('hex')}`,
    AUTH_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    AUTH_SIGNUP_IP_LIMIT: '100000',
    AUTH_LOGIN_IP_LIMIT: '100000',
  };
}

/**
 * SIGKILL of the whole process (gateway, relay and projector at once) while commands are in
 * flight: every command that was acknowledged is in the read models after a restart.
 */
describe('a crash loses no acknowledged command', () => {
  const dropDb: Array<() => Promise<void>> = [];
  let child: ChildProcess | undefined;
  afterAll(async () => {
    child?.kill('SIGKILL');
    for (const drop of dropDb) await drop();
  });

  it('keeps every acknowledged seat purchase across a SIGKILL mid-load', async () => {
    const db = await createTestDatabase('crash');
    dropDb.push(db.drop);
    const port = await freePort();
    const env = processEnv(db.url);
    child = await startProcess(env, port);
    const http = createHttpClient(`http://127.0.0.1:${port}`);
    const owner = await http.mutation('auth.signUp', {
      email: `crash-${Date.now()}@example.com`,
      password: 'crash test secret',
      name: 'C',
    });
    const orgs: string[] = [];
    for (let i = 0; i < 4; i++)
      orgs.push(
        (await http.mutation('org.create', { name: `Crash ${i}`, plan: 'enterprise' }, { token: owner.accessToken }))
          .orgId,
      );

    // Four writers buy one seat at a time until the process dies under them.
    const acked = new Map<string, { count: number; maxPosition: bigint }>(
      orgs.map((o) => [o, { count: 0, maxPosition: 0n }]),
    );
    let failures = 0;
    const writers = orgs.map(async (orgId) => {
      for (;;) {
        try {
          const r = await http.mutation('seats.purchase', { orgId, quantity: 1 }, { token: owner.accessToken });
          const a = acked.get(orgId)!;
          a.count += 1;
          a.maxPosition = BigInt(r.position) > a.maxPosition ? BigInt(r.position) : a.maxPosition;
        } catch (err) {
          if (err instanceof TrpcCallError) throw err; // a refusal would be a bug here
          failures += 1; // connection refused/reset: the process is gone
          return;
        }
      }
    });
    // Killed under load: once enough purchases are acknowledged, however long that takes here.
    const total = () => [...acked.values()].reduce((n, a) => n + a.count, 0);
    await eventually(() => expect(total()).toBeGreaterThan(40), 30_000, 10);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await Promise.all(writers);
    expect(total()).toBeGreaterThan(40);
    expect(failures).toBe(orgs.length);

    child = await startProcess(env, port);
    for (const [orgId, a] of acked) {
      // Unacknowledged requests in flight at the kill may or may not have landed; acknowledged ones must.
      const seats = await http.query(
        'seats.get',
        { orgId, minPosition: a.maxPosition.toString() },
        { token: owner.accessToken },
      );
      expect(seats.purchased).toBeGreaterThanOrEqual(a.count);
      expect(seats.purchased).toBeLessThanOrEqual(a.count + 1);
      const events = await http.query(
        'events.list',
        { orgId, types: ['seats.purchased'], limit: 500 },
        { token: owner.accessToken },
      );
      expect(events.events.length).toBe(seats.purchased);
    }
    child.kill('SIGTERM');
    await once(child, 'exit');
    child = undefined;
  });
});

/**
 * The all-in-one process killed while someone is in a meeting through its embedded SFU (the
 * in-process placement, which forgets the dead run): after the restart, the lost-node sweep
 * records the leave the dead process never reported, so the meeting can end and usage stops.
 */
describe('a crash of the all-in-one process mid-meeting', () => {
  const dropDb: Array<() => Promise<void>> = [];
  let child: ChildProcess | undefined;
  const clients: SignalingClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.close();
    child?.kill('SIGKILL');
    for (const drop of dropDb) await drop();
  });

  it('records the leave of whoever was in the meeting, once, after the restart', async () => {
    const db = await createTestDatabase('crashmeet');
    dropDb.push(db.drop);
    const port = await freePort();
    const env = {
      ...processEnv(db.url),
      JOIN_TOKEN_SECRET: randomBytes(32).toString('hex'),
      SFU_SERVICE_SECRET: randomBytes(32).toString('hex'),
      SFU_WORKERS: '1',
      SFU_RTC_PORT: 'auto',
      MEETING_EMPTY_SWEEP_SECONDS: '0',
      SFU_NODE_SWEEP_SECONDS: '0.25',
      SFU_NODE_LOST_GRACE_SECONDS: '1',
      // The embedded default: no Redis (an empty value is unset), so the placement lives in the process.
      REDIS_URL: '',
    };
    child = await startProcess(env, port);
    const http = createHttpClient(`http://127.0.0.1:${port}`);
    const owner = await http.mutation('auth.signUp', {
      email: `crashmeet-${Date.now()}@example.com`,
      password: 'crash test secret',
      name: 'C',
    });
    const auth = { token: owner.accessToken };
    const { orgId } = await http.mutation('org.create', { name: 'Crash meetings', plan: 'pro' }, auth);
    await http.mutation('seats.purchase', { orgId, quantity: 1 }, auth);
    await http.mutation('seats.assign', { orgId, userId: owner.user.id }, auth);
    const { sessionId } = await http.mutation('meetings.create', { orgId, title: 'Standup' }, auth);
    const ticket = await http.mutation('meetings.join', { orgId, sessionId }, auth);
    const client = await SignalingClient.connect(ticket.signalingUrl);
    clients.push(client);
    await client.request('join', { token: ticket.token });
    await eventually(async () =>
      expect((await http.query('meetings.get', { orgId, sessionId }, auth)).participants).toHaveLength(1),
    );

    child.kill('SIGKILL');
    await once(child, 'exit');
    const killedAt = Date.now();
    child = await startProcess(env, port);

    await eventually(async () => {
      const meeting = await http.query('meetings.get', { orgId, sessionId }, auth);
      expect(meeting.participants).toEqual([]);
      expect(meeting.participantsNow).toBe(0);
    }, 15_000);
    const left = await http.query('events.list', { orgId, types: ['participant.left'], limit: 10 }, auth);
    expect(left.events).toHaveLength(1);
    expect(left.events[0]!.data).toMatchObject({ participantId: owner.user.id, reason: 'disconnected' });
    // The restarted process cannot know when the dead one went: it dates the leave from when it found the run missing.
    const at = Date.parse((left.events[0]!.data as { at: string }).at);
    expect(at).toBeGreaterThanOrEqual(killedAt);
    expect(at).toBeLessThan(Date.now());
    child.kill('SIGTERM');
    await once(child, 'exit');
    child = undefined;
  });
});
