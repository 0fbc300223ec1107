/**
 * A service's `src/main.ts` as its own process, for tests that kill it (SIGKILL) or stop it
 * (SIGTERM): its output collected, its exit awaited, and every one still running killed by
 * `killAll` when the test file ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildService {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** Runs `src/main.ts` of the service in `serviceDir` through tsx, with only `env` (and PATH). */
export function spawnService(serviceDir: string, env: Record<string, string | undefined>): ChildService {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serviceDir,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, output: () => output, exited };
}

/** Kills every service this module started that is still running. */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}
