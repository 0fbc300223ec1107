import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { openNatsBus } from '@quorum/runtime';
import { pino } from 'pino';
import { startQuorum, type QuorumApp } from '@quorum/quorum/app';
import { QuorumEnvSchema, type QuorumEnv } from '@quorum/quorum/env';
import { createHttpClient } from './http-client';
import { createTestDatabase } from './test-database';

export interface TestQuorum {
  app: QuorumApp;
  env: QuorumEnv;
  baseUrl: string;
  http: ReturnType<typeof createHttpClient>;
  /** Stops Quorum and drops its database. */
  stop(): Promise<void>;
}

/**
 * A whole Quorum against the real servers, isolated: its own database on the test Postgres
 * and its own NATS namespace, so tests can run beside each other and beside old messages.
 */
export async function startTestQuorum(
  label: string,
  overrides: Partial<Record<string, string>> = {},
): Promise<TestQuorum> {
  const db = await createTestDatabase(label);
  // Its own data directory (development mail is written there), removed when it stops.
  const dataDir = `.data/test/${label}-${randomBytes(4).toString('hex')}`;
  const env = QuorumEnvSchema.parse({
    DATABASE_URL: db.url,
    NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    NATS_NAMESPACE: `t${randomBytes(6).toString('hex')}`,
    REDIS_NAMESPACE: `t${randomBytes(6).toString('hex')}`,
    // Every test client calls from 127.0.0.1, so per-IP limits would count a whole file as one
    // caller; per-email limits keep their defaults.
    AUTH_LOGIN_IP_LIMIT: '100000',
    AUTH_SIGNUP_IP_LIMIT: '100000',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    AUTH_SECRET: randomBytes(32).toString('hex'),
    JOIN_TOKEN_SECRET: randomBytes(32).toString('hex'),
    SFU_SERVICE_SECRET: randomBytes(32).toString('hex'),
    DATA_DIR: dataDir,
    // One mediasoup worker on a free port per test Quorum (MEDIASOUP_WORKER_BIN comes from npm test).
    SFU_WORKERS: '1',
    SFU_RTC_PORT: 'auto',
    SFU_NODE_ID: `test-${randomBytes(4).toString('hex')}`,
    // No background appends behind a test's back: tests that sweep call `gateway.sweeper.sweep()`.
    MEETING_EMPTY_SWEEP_SECONDS: '0',
    SFU_NODE_SWEEP_SECONDS: '0',
    // Webhook receivers in tests listen on http://127.0.0.1.
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    ...overrides,
  });
  let app: QuorumApp;
  try {
    app = await startQuorum(env, pino({ level: env.LOG_LEVEL }));
  } catch (err) {
    await db.drop();
    throw err;
  }
  const baseUrl = `http://127.0.0.1:${app.port}`;
  return {
    app,
    env,
    baseUrl,
    http: createHttpClient(baseUrl),
    async stop() {
      await app.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
      // Its JetStream stream too: hundreds of idle test streams slow a shared NATS down.
      if (env.NATS_URL && env.NATS_NAMESPACE) {
        const bus = await openNatsBus({
          servers: env.NATS_URL,
          namespace: env.NATS_NAMESPACE,
          name: 'test-quorum-cleanup',
          ensureStream: false,
        });
        try {
          await bus.deleteStream();
        } finally {
          await bus.close();
        }
      }
    },
  };
}

/**
 * The store's head once every committed append is visible. `headPosition()` stops below
 * transactions still in flight (the read horizon), and any transaction the projector or the
 * relay has open holds the horizon back for a moment, so a head read right after an append can
 * come out low and "grow" later with nothing appended. Tests that assert "nothing was appended"
 * compare settled heads.
 */
export async function settledHead(q: TestQuorum, timeoutMs = 5_000): Promise<bigint> {
  const { rows } = await q.app.sql.query<{ last: string | null }>('SELECT max(position)::text AS last FROM es_events');
  const last = rows[0]?.last == null ? 0n : BigInt(rows[0].last);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const head = await q.app.store.headPosition();
    if (head >= last) return head;
    if (Date.now() > deadline)
      throw new Error(`the store's head stayed at ${head}, below the last committed position ${last}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
