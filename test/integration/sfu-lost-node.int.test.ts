/**
 * An SFU node that dies without a word (SIGKILL) reports no leaves. The gateway's lost-node
 * sweep records them: once the node's run has been silent for the grace period, each person it
 * carried who did not come back through another node gets a leave at the run's last heartbeat.
 * Someone who did come back is recorded as reconnected, and no leave from the dead run applies
 * to them. The node is a real `services/sfu` process; real Postgres, NATS, Redis, gateway and
 * mediasoup workers.
 *
 * A node only cut off from Redis (through a TCP proxy the test takes down) looks the same from
 * the gateway; its people stay connected to it, and once its heartbeats land again it reports
 * them back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { streamIds } from '@quorum/domain';
import { RedisPlacement } from '@quorum/placement/redis';
import { SignalingClient } from '@quorum/sfu/signaling/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';
import { createMeeting, serviceToken } from '../support/meetings';
import { meetingCast, type TestUser } from '../support/people';
import { startTestSfuNode, type TestSfuNode } from '../support/sfu-node';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SFU_MAIN = fileURLToPath(new URL('../../services/sfu/src/main.ts', import.meta.url));
const HEARTBEAT_MS = 200;
const HEARTBEAT_TTL_MS = 1_000;
const GRACE_MS = 1_000;

let q: TestQuorum;
let host: TestUser;
let alice: TestUser;
let orgId: string;
let redis: Redis;
let placement: RedisPlacement;
let doomed: ChildProcess | undefined;
let survivor: TestSfuNode | undefined;
const inProcess: TestSfuNode[] = [];
const redisProxies: Array<{ proxy: TcpProxy; client: Redis }> = [];
const clients: SignalingClient[] = [];

/** A standalone SFU node process (`services/sfu`), heartbeating into the test Quorum's placement. */
async function spawnNode(nodeId: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}/sfu`;
  const child = spawn(process.execPath, ['--import', 'tsx', SFU_MAIN], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SFU_NODE_ID: nodeId,
      SFU_PUBLIC_URL: url,
      GATEWAY_URL: q.baseUrl,
      JOIN_TOKEN_SECRET: q.env.JOIN_TOKEN_SECRET!,
      SFU_SERVICE_SECRET: q.env.SFU_SERVICE_SECRET!,
      REDIS_URL,
      REDIS_NAMESPACE: q.env.REDIS_NAMESPACE!,
      NATS_URL: q.env.NATS_URL!,
      NATS_NAMESPACE: q.env.NATS_NAMESPACE!,
      SFU_WORKERS: '1',
      SFU_RTC_PORT: 'auto',
      SFU_HEARTBEAT_SECONDS: String(HEARTBEAT_MS / 1000),
      SFU_HEARTBEAT_TTL_SECONDS: String(HEARTBEAT_TTL_MS / 1000),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await eventually(async () => expect((await placement.liveNodes()).map((n) => n.nodeId)).toContain(nodeId), 30_000);
  return { child, url };
}

/** A node in this process; `placementRedis` is its own Redis client (through a proxy, say). */
async function startInProcess(nodeId: string, placementRedis: Redis = redis) {
  const node = await startTestSfuNode(q, {
    nodeId,
    redis: placementRedis,
    heartbeatMs: HEARTBEAT_MS,
    ttlMs: HEARTBEAT_TTL_MS,
  });
  inProcess.push(node);
  return node;
}

async function enter(user: TestUser, sessionId: string) {
  const ticket = await q.http.mutation('meetings.join', { orgId, sessionId }, { token: user.token });
  const client = await SignalingClient.connect(ticket.signalingUrl);
  clients.push(client);
  await client.request('join', { token: ticket.token });
  return { client, signalingUrl: ticket.signalingUrl };
}

/** A standalone node process about to be killed, with a new meeting on it that the host and alice joined. */
async function meetingOnDoomedNode() {
  const doomedId = `doomed-${randomBytes(3).toString('hex')}`;
  const spawned = await spawnNode(doomedId);
  doomed = spawned.child;
  const { sessionId } = await createMeeting(q.http, orgId, { token: host.token });
  expect((await enter(host, sessionId)).signalingUrl).toBe(spawned.url);
  expect((await enter(alice, sessionId)).signalingUrl).toBe(spawned.url);
  const [doomedNode] = (await placement.liveNodes()).filter((n) => n.nodeId === doomedId);
  return { doomedId, doomedNode, sessionId };
}

/** Starts a survivor node in this process, then SIGKILLs the doomed one; resolves once it is dead, with when it was killed. */
async function killDoomedBeside(survivorId: string): Promise<{ killedAt: number; survivorRun: string }> {
  survivor = await startInProcess(survivorId);
  const survivorRun = `${survivorId}/${survivor.sfu.instance}`;
  doomed!.kill('SIGKILL');
  const killedAt = Date.now();
  await new Promise<void>((resolve) =>
    doomed!.exitCode !== null || doomed!.signalCode !== null ? resolve() : doomed!.once('exit', () => resolve()),
  );
  return { killedAt, survivorRun };
}

/** Asks for a ticket until the meeting has moved to the survivor (the dead node's heartbeat ran out), then rejoins through it. */
async function rejoinOnSurvivor(user: TestUser, sessionId: string) {
  await eventually(async () => {
    const ticket = await q.http.mutation('meetings.join', { orgId, sessionId }, { token: user.token });
    expect(ticket.signalingUrl).toBe(survivor!.url);
  }, 10_000);
  return enter(user, sessionId);
}

/** One pass of the gateway's lost-node sweep; resolves with the leaves it recorded. */
const sweep = () => q.app.gateway.lostNodeSweeper!.sweep();

async function sessionEvents(sessionId: string) {
  return (await q.app.store.readStream(streamIds.session(sessionId))).map((e) => ({
    type: e.type,
    data: e.data as Record<string, unknown>,
  }));
}

beforeAll(async () => {
  q = await startTestQuorum('lostnode', {
    SFU: 'off',
    REDIS_URL,
    SFU_NODE_LOST_GRACE_SECONDS: String(GRACE_MS / 1000),
    // The test drives the sweep (`sweep()`), so whether someone is back before it runs is
    // decided by the test, never by how busy the machine is.
    SFU_NODE_SWEEP_SECONDS: '0',
  });
  redis = new Redis(REDIS_URL);
  placement = new RedisPlacement({ redis, namespace: `${q.env.REDIS_NAMESPACE}:placement` });
  ({ orgId, host, alice } = await meetingCast(q.http));
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  doomed?.kill('SIGKILL');
  for (const { proxy } of redisProxies) proxy.mode = 'up';
  for (const node of inProcess) await node.close();
  for (const { proxy, client } of redisProxies) {
    client.disconnect();
    await proxy.close();
  }
  await placement?.close();
  await redis?.quit();
  await q?.stop();
});

describe('an SFU node that dies without a word', () => {
  it("gets its participants' leaves recorded at its last heartbeat; whoever came back through another node stays", async () => {
    const { doomedId, doomedNode, sessionId } = await meetingOnDoomedNode();

    // Both joins name the run they came through.
    const doomedRun = `${doomedId}/${doomedNode!.instance}`;
    await eventually(async () => {
      const joined = (await sessionEvents(sessionId)).filter((e) => e.type === 'participant.joined');
      expect(joined.map((e) => e.data.node)).toEqual([doomedRun, doomedRun]);
    });

    const { killedAt, survivorRun } = await killDoomedBeside(`survivor-${randomBytes(3).toString('hex')}`);

    // Alice's page rejoins: once the dead node's heartbeat has run out, the meeting moves to the survivor.
    await rejoinOnSurvivor(alice, sessionId);

    await eventually(async () => {
      expect((await sessionEvents(sessionId)).filter((e) => e.type === 'participant.reconnected')).toHaveLength(1);
    });

    // The host never comes back: once the run has been silent for the grace, a sweep records the leave.
    await eventually(async () => {
      await sweep();
      expect((await sessionEvents(sessionId)).filter((e) => e.type === 'participant.left')).toHaveLength(1);
    }, 15_000);
    // Further sweeps record nothing else.
    expect(await sweep()).toBe(0);
    const events = await sessionEvents(sessionId);
    const after = events.slice(events.findIndex((e) => e.type === 'participant.joined') + 2);
    expect(after.map((e) => e.type).sort()).toEqual(['participant.left', 'participant.reconnected']);
    const reconnected = after.find((e) => e.type === 'participant.reconnected')!;
    expect(reconnected.data).toMatchObject({ participantId: alice.userId, node: survivorRun });
    const left = after.find((e) => e.type === 'participant.left')!;
    expect(left.data).toMatchObject({ participantId: host.userId, reason: 'disconnected' });
    // At the dead run's last heartbeat (or the join, when that came after it): before the
    // kill, and no more than a heartbeat (plus scheduling) before it.
    const leftAt = Date.parse(left.data.at as string);
    const lastSeen = await placement.lastSeen(doomedId, doomedNode!.instance);
    const hostJoinedAt = Date.parse(
      events.find((e) => e.type === 'participant.joined' && e.data.participantId === host.userId)!.data.at as string,
    );
    expect(leftAt).toBe(Math.max(lastSeen!.at.getTime(), hostJoinedAt));
    expect(leftAt).toBeLessThanOrEqual(killedAt + 5);
    expect(leftAt).toBeGreaterThan(killedAt - HEARTBEAT_MS - 500);

    // A leave the dead run might still have had in flight for alice changes nothing now.
    const late = await q.http.mutation(
      'sfu.participantLeft',
      {
        orgId,
        sessionId,
        participantId: alice.userId,
        reason: 'disconnected',
        at: new Date(killedAt).toISOString(),
        instance: doomedNode!.instance,
      },
      { serviceToken: serviceToken(q, `sfu:${doomedId}`) },
    );
    expect(late).toEqual({ position: null, recorded: false });

    // The read model agrees: the host's stint is closed, alice is in the meeting through the survivor.
    await eventually(async () => {
      const { rows } = await q.app.sql.query<{
        participant_id: string;
        left_at: Date | null;
        leave_reason: string | null;
        node: string | null;
      }>(
        `SELECT participant_id, left_at, leave_reason, node FROM rm_v1.meeting_participants WHERE session_id = $1 ORDER BY joined_at`,
        [sessionId],
      );
      expect(
        rows.map((r) => ({ id: r.participant_id, open: r.left_at === null, reason: r.leave_reason, node: r.node })),
      ).toEqual([
        { id: host.userId, open: false, reason: 'disconnected', node: doomedRun },
        { id: alice.userId, open: true, reason: null, node: survivorRun },
      ]);
    });
  }, 90_000);

  it('someone who comes back after the grace starts a new stint; the leave of the first is at the last heartbeat', async () => {
    // The meeting must land on the node about to die: the first test's survivor goes first.
    await survivor?.sfu.close();
    await eventually(async () => expect(await placement.liveNodes()).toEqual([]));
    const { doomedId, doomedNode, sessionId } = await meetingOnDoomedNode();
    await eventually(async () => {
      expect((await sessionEvents(sessionId)).filter((e) => e.type === 'participant.joined')).toHaveLength(2);
    });
    const { killedAt, survivorRun } = await killDoomedBeside(`survivor-${randomBytes(3).toString('hex')}`);

    // Nobody is back yet when the sweep finds the run silent past the grace: both leave.
    await eventually(async () => {
      await sweep();
      expect(
        (await sessionEvents(sessionId))
          .filter((e) => e.type === 'participant.left')
          .map((e) => e.data.participantId)
          .sort(),
      ).toEqual([host.userId, alice.userId].sort());
    }, 15_000);
    const lastSeen = await placement.lastSeen(doomedId, doomedNode!.instance);
    for (const left of (await sessionEvents(sessionId)).filter((e) => e.type === 'participant.left')) {
      expect(left.data.reason).toBe('disconnected');
      expect(Date.parse(left.data.at as string)).toBeLessThanOrEqual(killedAt + 5);
      expect(Date.parse(left.data.at as string)).toBeGreaterThanOrEqual(lastSeen!.at.getTime() - 1);
    }

    // Alice comes back through the survivor: a join, not a reconnect, and only her stint is open.
    await rejoinOnSurvivor(alice, sessionId);
    await eventually(async () => {
      const events = await sessionEvents(sessionId);
      const after = events.slice(events.findLastIndex((e) => e.type === 'participant.left') + 1);
      expect(after.map((e) => [e.type, e.data.participantId, e.data.node])).toEqual([
        ['participant.joined', alice.userId, survivorRun],
      ]);
    });
    expect((await sessionEvents(sessionId)).some((e) => e.type === 'participant.reconnected')).toBe(false);
    await eventually(async () => {
      const meeting = await q.http.query('meetings.get', { orgId, sessionId }, { token: host.token });
      expect(meeting.participants.map((p: { participantId: string }) => p.participantId)).toEqual([alice.userId]);
    });
  }, 90_000);

  it('a node only cut off from the placement gets its people back once its heartbeats land again', async () => {
    const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(REDIS_URL).port || 6379) });
    const client = new Redis(`redis://127.0.0.1:${await proxy.listen()}`, { maxRetriesPerRequest: null });
    client.on('error', () => undefined); // reconnects on its own while the proxy is down
    redisProxies.push({ proxy, client });
    const nodeId = `cut-off-${randomBytes(3).toString('hex')}`;
    const node = await startInProcess(nodeId, client);
    const run = `${nodeId}/${node.sfu.instance}`;
    // Alone in the placement: the last test's survivor is closed.
    await survivor?.sfu.close();
    await eventually(async () => expect((await placement.liveNodes()).map((n) => n.nodeId)).toEqual([nodeId]));

    const { sessionId } = await createMeeting(q.http, orgId, { token: host.token });
    const h = await enter(host, sessionId);
    const a = await enter(alice, sessionId);
    expect(h.signalingUrl).toBe(node.url);

    proxy.mode = 'down';
    // Taken for dead: both recorded as gone at the run's last heartbeat.
    await eventually(async () => {
      await sweep();
      expect(
        (await sessionEvents(sessionId))
          .filter((e) => e.type === 'participant.left')
          .map((e) => e.data.participantId)
          .sort(),
      ).toEqual([host.userId, alice.userId].sort());
    }, 15_000);

    proxy.mode = 'up';
    // Its heartbeats land again: both are reported back, through the same run.
    await eventually(async () => {
      const events = await sessionEvents(sessionId);
      const back = events.slice(events.findLastIndex((e) => e.type === 'participant.left') + 1);
      expect(
        back
          .filter((e) => e.type === 'participant.joined')
          .map((e) => [e.data.participantId, e.data.node])
          .sort(),
      ).toEqual(
        [
          [host.userId, run],
          [alice.userId, run],
        ].sort(),
      );
    }, 15_000);
    // They never noticed: their sockets stayed open the whole time.
    expect(h.client.closed).toBeUndefined();
    expect(a.client.closed).toBeUndefined();
    await eventually(async () => {
      const meeting = await q.http.query('meetings.get', { orgId, sessionId }, { token: host.token });
      expect(meeting.participants.map((p: { participantId: string }) => p.participantId).sort()).toEqual(
        [host.userId, alice.userId].sort(),
      );
    });
  }, 90_000);
});
