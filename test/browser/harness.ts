/**
 * Browser tests run the real stack exactly as the README's first command does (`npm start`:
 * build the web app and the all-in-one service when stale, then
 * `node services/quorum/dist/main.js`, the embedded default) on a free port and a fresh data directory, and drive Debian's Chromium
 * through playwright-core. The embedded SFU runs one mediasoup worker on free ports
 * (`SFU_RTC_PORT=auto`), so runs never clash; its worker binary comes from
 * MEDIASOUP_WORKER_BIN (`export MEDIASOUP_WORKER_BIN="$(scripts/mediasoup-worker.sh)"`).
 * Chromium gets fake camera and microphone devices and grants them without asking.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DirectoryMailer, type SentMail } from '@quorum/mail';
import { signServiceToken } from '@quorum/signaling/tokens';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { pino } from 'pino';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SCREENSHOTS = join(ROOT, 'test-results/screenshots');
const DOCS_SCREENSHOTS = join(ROOT, 'docs/screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const PASSWORD = 'correct horse battery staple';

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface RunningQuorum {
  baseUrl: string;
  /** The Quorum process (its mediasoup workers are its children). */
  pid: number | undefined;
  /** Everything the process printed, for failure messages. */
  output(): string;
  /** A service token signed with the secret Quorum generated in its data directory (for `/sfu/state`). */
  serviceToken(): Promise<string>;
  /** The mail Quorum sent to `to` (development mail, in its data directory), oldest first. */
  mailTo(to: string): Promise<SentMail[]>;
  stop(): Promise<void>;
}

/** The mediasoup worker binary the embedded SFU needs; fails with how to get it. */
export function mediasoupWorkerBin(): string {
  const bin = process.env.MEDIASOUP_WORKER_BIN;
  if (!bin)
    throw new Error(
      'MEDIASOUP_WORKER_BIN is not set: the embedded SFU needs a mediasoup worker. Run: export MEDIASOUP_WORKER_BIN="$(scripts/mediasoup-worker.sh)"',
    );
  if (!existsSync(bin))
    throw new Error(`MEDIASOUP_WORKER_BIN=${bin} does not exist: run scripts/mediasoup-worker.sh to build it.`);
  return bin;
}

export async function startQuorum(options: { env?: Record<string, string> } = {}): Promise<RunningQuorum> {
  const workerBin = mediasoupWorkerBin();
  for (const script of [['scripts/ensure-web-build.mjs'], ['scripts/ensure-build.mjs', 'quorum']]) {
    const build = spawnSync(process.execPath, script, { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`${script.join(' ')} failed:\n${build.stdout}\n${build.stderr}`);
  }

  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'quorum-browser-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    MEDIASOUP_WORKER_BIN: workerBin,
    // One worker on free ports: the machine has few cores and other runs may be going.
    SFU_WORKERS: '1',
    SFU_RTC_PORT: 'auto',
    ...options.env,
  };
  // The embedded default, as a newcomer runs it: no servers, whatever the test tier exported.
  for (const name of ['DATABASE_URL', 'ESDB_URL', 'NATS_URL', 'REDIS_URL', 'WEB_DIST', 'AUTH_SECRET']) delete env[name];

  let log = '';
  const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', 'services/quorum/dist/main.js'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Quorum exited with ${child.exitCode} before it was ready:\n${log}`);
    // Ready, and the embedded SFU mounted (it starts after the gateway listens).
    const ready = await fetch(`${baseUrl}/health/ready`).then(
      async (r) =>
        r.ok &&
        (await fetch(`${baseUrl}/sfu/state`)).headers.get('content-type')?.startsWith('application/json') === true,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Quorum was not ready within 90 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  let stopping: Promise<void> | undefined;
  return {
    baseUrl,
    pid: child.pid,
    output: () => log,
    serviceToken: async () =>
      signServiceToken(
        'test:browser',
        (await readFile(join(dataDir, 'sfu-service-secret'), 'utf8')).trim(),
        Math.floor(Date.now() / 1000),
      ),
    mailTo: (to) =>
      new DirectoryMailer({ dir: join(dataDir, 'mail'), from: '', logger: pino({ level: 'silent' }) }).sent(to),
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        }
        await rm(dataDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install it with "apt-get install -y chromium" (scripts/test-all.sh does).`,
    );
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright-core gives each launch a fresh temporary user-data-dir.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      // A fake camera (a moving test pattern) and microphone (a beep), granted without a prompt.
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
    ],
  });
}

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

const violations: string[] = [];

/**
 * What Chromium refused under the gateway's Content-Security-Policy in any context made by
 * `newContext`: a policy that blocks part of the app shows up here, so each file checks it is empty.
 */
export function cspViolations(): readonly string[] {
  return violations;
}

export async function newContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, viewport: DESKTOP, reducedMotion: 'reduce' });
  context.setDefaultTimeout(15_000);
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.effectiveDirective + ' refused ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));`,
  });
  context.on('console', (m) => {
    if (m.type() === 'error' && /CSP violation|Content Security Policy/.test(m.text()))
      violations.push(`${m.page()?.url() ?? ''}: ${m.text()}`);
  });
  return context;
}

/**
 * Saves `test-results/screenshots/<name>-<width>.png`; with QUORUM_DOCS_SCREENSHOTS=1 the ones
 * marked `docs` are also copied to docs/screenshots/ (the README shows them).
 */
export async function screenshot(
  page: Page,
  name: string,
  options: { docs?: boolean; phone?: boolean } = {},
): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  // Let the status line and transitions settle so the pictures are stable.
  await page.waitForTimeout(150);
  const desktop = join(SCREENSHOTS, `${name}-1280.png`);
  await page.screenshot({ path: desktop, fullPage: true });
  let phone: string | undefined;
  if (options.phone) {
    const viewport = page.viewportSize() ?? DESKTOP;
    await page.setViewportSize(PHONE);
    await page.waitForTimeout(150);
    phone = join(SCREENSHOTS, `${name}-390.png`);
    await page.screenshot({ path: phone, fullPage: true });
    await page.setViewportSize(viewport);
  }
  if (options.docs && process.env.QUORUM_DOCS_SCREENSHOTS === '1') {
    await mkdir(DOCS_SCREENSHOTS, { recursive: true });
    await copyFile(desktop, join(DOCS_SCREENSHOTS, `${name}.png`));
    if (phone) await copyFile(phone, join(DOCS_SCREENSHOTS, `${name}-mobile.png`));
  }
}

export function uniqueEmail(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}@example.com`;
}

/** A plain tRPC call over HTTP (for set-up the test does not drive through the UI). */
export async function call<T>(
  baseUrl: string,
  kind: 'query' | 'mutation',
  path: string,
  input: unknown,
  token?: string,
): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res =
    kind === 'mutation'
      ? await fetch(`${baseUrl}/trpc/${path}`, { method: 'POST', headers, body: JSON.stringify(input) })
      : await fetch(`${baseUrl}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers });
  const body = (await res.json()) as { result?: { data: T }; error?: { message: string } };
  if (!body.result) throw new Error(`${path} failed: ${body.error?.message ?? res.status}`);
  return body.result.data;
}
