/**
 * The services as `npm start` runs them: compiled to services/<name>/dist by `npm run build`
 * (here through scripts/ensure-build.mjs, which compiles what is missing or stale) and started
 * with plain `node`, no TypeScript loader. Each starts, serves, and stops on SIGTERM with exit 0.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port';
import { createHttpClient } from '../support/http-client';
import { createTestDatabase } from '../support/test-database';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// The machine may be busy: a fresh PGlite data directory alone takes seconds under load.
const READY_MS = 90_000;

interface Service {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void>> = [];

/** `node services/<name>/dist/<entry>` with exactly `env` (plus PATH), as a deployment would. */
function startCompiled(name: string, env: Record<string, string>, entry = 'main.js'): Service {
  const child = spawn(process.execPath, ['--enable-source-maps', join('services', name, 'dist', entry)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      done({ code, signal });
    }),
  );
  return { child, output: () => output, exited };
}

async function until(service: Service, what: string, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_MS;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null)
      throw new Error(`exited with ${service.child.exitCode} before ${what}:\n${service.output()}`);
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${what} within ${READY_MS} ms:\n${service.output()}`);
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'quorum-compiled-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const answers = (url: string) => () =>
  fetch(url).then(
    (r) => r.ok,
    () => false,
  );

/** SIGTERM, then the exit: 0, by itself, having logged its shutdown. */
async function stopCleanly(service: Service): Promise<void> {
  service.child.kill('SIGTERM');
  const { code, signal } = await service.exited;
  expect({ code, signal }, service.output()).toEqual({ code: 0, signal: null });
}

beforeAll(() => {
  const build = spawnSync(process.execPath, ['scripts/ensure-build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  expect(build.status, `${build.stdout}\n${build.stderr}`).toBe(0);
});

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('the compiled all-in-one (services/quorum/dist/main.js)', () => {
  it('runs embedded with no servers: signs a user up over HTTP and stops cleanly on SIGTERM', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const quorum = startCompiled('quorum', {
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      SFU_WORKERS: '1',
      SFU_RTC_PORT: 'auto',
      ...(process.env.MEDIASOUP_WORKER_BIN ? { MEDIASOUP_WORKER_BIN: process.env.MEDIASOUP_WORKER_BIN } : {}),
    });
    await until(quorum, '/health/ready', answers(`http://127.0.0.1:${port}/health/ready`));
    expect(quorum.output()).toContain('database: embedded PGlite');

    const http = createHttpClient(`http://127.0.0.1:${port}`);
    const owner = await http.mutation('auth.signUp', {
      email: `compiled-${randomBytes(4).toString('hex')}@example.com`,
      password: 'compiled build secret',
      name: 'Compiled',
    });
    expect(owner.accessToken).toEqual(expect.any(String));

    await stopCleanly(quorum);
    expect(quorum.output()).toContain('"msg":"closed event store and database"');
  });

  it('runs on PostgreSQL and NATS with the relay and projector on their compiled worker thread', async () => {
    const db = await createTestDatabase('compiled');
    cleanups.push(() => db.drop());
    const port = await freePort();
    const quorum = startCompiled('quorum', {
      PORT: String(port),
      DATABASE_URL: db.url,
      NATS_URL,
      NATS_NAMESPACE: `compiled${randomBytes(6).toString('hex')}`,
      AUTH_SECRET: randomBytes(32).toString('hex'),
      DATA_DIR: await tempDir(),
      LOG_LEVEL: 'info',
      SFU: 'off',
    });
    await until(quorum, '/health/ready', answers(`http://127.0.0.1:${port}/health/ready`));
    expect(quorum.output()).toContain('relay and projector: worker thread');

    const http = createHttpClient(`http://127.0.0.1:${port}`);
    const owner = await http.mutation('auth.signUp', {
      email: `compiled-${randomBytes(4).toString('hex')}@example.com`,
      password: 'compiled build secret',
      name: 'Compiled',
    });
    // A read at the write's position waits for the projection: the worker thread relayed and projected it.
    const { orgId, position } = await http.mutation(
      'org.create',
      { name: 'Compiled', plan: 'pro' },
      { token: owner.accessToken },
    );
    const orgs = await http.query('org.list', { minPosition: position }, { token: owner.accessToken });
    expect(orgs).toEqual([expect.objectContaining({ orgId })]);

    await stopCleanly(quorum);
  });
});

describe('the compiled standalone services', () => {
  let databaseUrl: string;
  const namespace = `compiled${randomBytes(6).toString('hex')}`;
  const secrets = {
    AUTH_SECRET: randomBytes(32).toString('hex'),
    JOIN_TOKEN_SECRET: randomBytes(32).toString('hex'),
    SFU_SERVICE_SECRET: randomBytes(32).toString('hex'),
  };
  beforeAll(async () => {
    const db = await createTestDatabase('compiledsvc');
    cleanups.push(() => db.drop());
    databaseUrl = db.url;
  });

  it('each fails at once, naming what is missing, without its environment', async () => {
    const expected: Record<string, string> = {
      gateway: 'DATABASE_URL',
      relay: 'DATABASE_URL',
      projector: 'NATS_URL is required',
      metering: 'DATABASE_URL',
      sfu: 'SFU_NODE_ID',
    };
    for (const [name, missing] of Object.entries(expected)) {
      const service = startCompiled(name, {});
      const { code } = await service.exited;
      expect(code, `${name}: ${service.output()}`).toBe(1);
      expect(service.output(), name).toContain(missing);
    }
  });

  it('the gateway, relay, projector, metering and an SFU node start against the servers and stop cleanly', async () => {
    const gatewayPort = await freePort();
    const gateway = startCompiled('gateway', {
      PORT: String(gatewayPort),
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      REDIS_NAMESPACE: namespace,
      ...secrets,
      MAIL_DIR: await tempDir(),
    });
    const relay = startCompiled('relay', {
      DATABASE_URL: databaseUrl,
      NATS_URL,
      NATS_NAMESPACE: namespace,
      RELAY_NAME: namespace,
      LOG_LEVEL: 'info',
    });
    const projectorPort = await freePort();
    const projector = startCompiled('projector', {
      PORT: String(projectorPort),
      DATABASE_URL: databaseUrl,
      NATS_URL,
      NATS_NAMESPACE: namespace,
    });
    const metering = startCompiled('metering', {
      DATABASE_URL: databaseUrl,
      NATS_URL,
      NATS_NAMESPACE: namespace,
      LOG_LEVEL: 'info',
    });
    const sfuPort = await freePort();
    const sfu = startCompiled('sfu', {
      PORT: String(sfuPort),
      SFU_NODE_ID: namespace,
      SFU_PUBLIC_URL: `ws://127.0.0.1:${sfuPort}/sfu`,
      GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
      REDIS_URL,
      REDIS_NAMESPACE: namespace,
      NATS_URL,
      NATS_NAMESPACE: namespace,
      SFU_WORKERS: '1',
      SFU_RTC_PORT: 'auto',
      ...secrets,
      ...(process.env.MEDIASOUP_WORKER_BIN ? { MEDIASOUP_WORKER_BIN: process.env.MEDIASOUP_WORKER_BIN } : {}),
    });

    await until(gateway, 'gateway /health/ready', answers(`http://127.0.0.1:${gatewayPort}/health/ready`));
    await until(relay, 'relay leadership', async () => relay.output().includes('"msg":"relay is leader"'));
    await until(projector, 'projector /health/ready', answers(`http://127.0.0.1:${projectorPort}/health/ready`));
    await until(metering, 'metering consumer', async () => metering.output().includes('"msg":"metering running"'));
    await until(sfu, 'SFU /health/ready', answers(`http://127.0.0.1:${sfuPort}/health/ready`));

    // The gateway appends, the relay publishes and the projector projects: the org is listed.
    const http = createHttpClient(`http://127.0.0.1:${gatewayPort}`);
    const owner = await http.mutation('auth.signUp', {
      email: `compiled-${randomBytes(4).toString('hex')}@example.com`,
      password: 'compiled build secret',
      name: 'Compiled',
    });
    const { orgId, position } = await http.mutation(
      'org.create',
      { name: 'Standalone', plan: 'pro' },
      { token: owner.accessToken },
    );
    expect(await http.query('org.list', { minPosition: position }, { token: owner.accessToken })).toEqual([
      expect.objectContaining({ orgId }),
    ]);

    for (const service of [sfu, gateway, metering, projector, relay]) await stopCleanly(service);
  });
});
