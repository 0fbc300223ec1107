#!/usr/bin/env node
// Builds the web app (web/dist) when it is missing or older than its sources, so `npm start`
// always serves the current console. A fresh build takes a few seconds; when dist is current
// this only compares file times (a few milliseconds).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'web/dist/index.html');
// What goes into the bundle: the app, and the packages whose schemas and tables it imports.
const sources = [
  'web/src',
  'web/index.html',
  'web/vite.config.ts',
  'web/package.json',
  'packages/domain/src',
  'packages/signaling/src',
  'packages/api/src',
];

function newest(path) {
  let info;
  try {
    info = statSync(path);
  } catch {
    return 0;
  }
  if (!info.isDirectory()) return info.mtimeMs;
  let max = info.mtimeMs;
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
  return max;
}

// No build yet (no such file) reads as 0; any other error surfaces.
const builtAt = statSync(built, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const changedAt = Math.max(...sources.map((s) => newest(join(root, s))));
if (builtAt > 0 && builtAt >= changedAt) process.exit(0);

console.log(
  builtAt === 0
    ? '[web] building the web app (web/dist is missing)…'
    : '[web] rebuilding the web app (sources changed)…',
);
const result = spawnSync('npm', ['run', 'build', '--silent', '-w', '@quorum/web'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('[web] the web app failed to build; see the errors above.');
  process.exit(result.status ?? 1);
}
