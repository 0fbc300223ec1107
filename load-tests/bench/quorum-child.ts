/**
 * Quorum as a child process for the benchmarks (its own event loop and CPU figures), a
 * keep-alive HTTP client for its tRPC endpoint, and the process's CPU from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { sleep } from './stats';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface HttpAnswer {
  status: number;
  body: { result?: { data: unknown }; error?: { message: string; data?: { code?: string } } };
}

export function createClient(port: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const request = (method: 'GET' | 'POST', path: string, input: unknown, token?: string) =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const payload = method === 'POST' ? JSON.stringify(input ?? {}) : undefined;
      const url =
        method === 'GET' && input !== undefined ? `${path}?input=${encodeURIComponent(JSON.stringify(input))}` : path;
      const headers: Record<string, string | number> = { 'content-type': 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      if (payload !== undefined) headers['content-length'] = Buffer.byteLength(payload);
      const req = http.request({ host: '127.0.0.1', port, method, path: url, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: { error: { message: text.slice(0, 200) } } });
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  /** A tRPC call that must succeed; returns `result.data`. */
  const call = async <T>(method: 'GET' | 'POST', procedure: string, input: unknown, token?: string): Promise<T> => {
    const a = await request(method, `/trpc/${procedure}`, input, token);
    if (a.status !== 200 || a.body.error || !a.body.result) {
      throw new Error(
        `${procedure} answered ${a.status}: ${a.body.error?.data?.code ?? ''} ${a.body.error?.message ?? ''}`.trim(),
      );
    }
    return a.body.result.data as T;
  };
  return { request, call, close: () => agent.destroy() };
}

/** Signs up an owner and creates a business organization of theirs. */
export async function signUpWithOrg(client: ReturnType<typeof createClient>, label: string, orgName: string) {
  const owner = await client.call<{ accessToken: string; user: { id: string } }>('POST', 'auth.signUp', {
    email: `${label}-${randomBytes(4).toString('hex')}@example.com`,
    password: 'bench password long enough',
    name: 'Bench',
  });
  const token = owner.accessToken;
  const { orgId } = await client.call<{ orgId: string }>(
    'POST',
    'org.create',
    { name: orgName, plan: 'business' },
    token,
  );
  return { owner, token, orgId };
}

/** utime + stime of a process, in ms (Linux, 100 ticks/s). */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

export interface Child {
  proc: ChildProcess;
  output: string[];
  warnings: () => number;
  exited: Promise<number | null>;
}

export function startQuorum(env: Record<string, string>, options: { nodeArgs?: readonly string[] } = {}): Child {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // An in-process rate limiter per child: a shared Redis would carry sign-up counts across runs.
  delete childEnv.REDIS_URL;
  delete childEnv.ESDB_URL;
  // BENCH_CHILD_NODE_ARGS passes flags to Quorum's process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = [
    ...(options.nodeArgs ?? []),
    ...(process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'services/quorum/src/main.ts'], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let warnings = 0;
  const take = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      if (/"level":(40|50|60)/.test(line)) {
        warnings++;
        if (process.env.BENCH_SHOW_CHILD_WARNINGS) process.stderr.write(`child: ${line.slice(0, 300)}\n`);
      }
      if (process.env.BENCH_SHOW_CHILD_OUTPUT && !line.startsWith('{'))
        process.stderr.write(`child: ${line.slice(0, 200)}\n`);
      output.push(line);
      if (output.length > 200) output.shift();
    }
  };
  proc.stdout?.on('data', take);
  proc.stderr?.on('data', take);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, output, warnings: () => warnings, exited };
}

export async function stopQuorum(child: Child): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const done = await Promise.race([child.exited.then(() => true), sleep(15_000).then(() => false)]);
  if (!done) {
    child.proc.kill('SIGKILL');
    await child.exited;
  }
}
