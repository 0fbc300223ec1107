#!/usr/bin/env node
// `npm run dev`: Quorum (gateway, relay, projector) on :3000 and the web app's Vite dev server
// with hot reload on :5173, which proxies /trpc to Quorum. Open http://localhost:5173.
// Ctrl-C stops both.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const children = [
  spawn(process.execPath, ['--import', 'tsx', 'services/quorum/src/main.ts'], {
    cwd: root,
    stdio: 'inherit',
    env: { LOG_LEVEL: 'info', ...process.env },
  }),
  spawn('npm', ['run', 'dev', '-w', '@quorum/web'], {
    cwd: root,
    stdio: 'inherit',
    env: { QUORUM_URL: `http://127.0.0.1:${process.env.PORT ?? '3000'}`, ...process.env },
  }),
];

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exitCode = code;
}
for (const child of children) child.on('exit', (code) => stop(code ?? 0));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop(0));
