#!/usr/bin/env node
// Compiles services (services/<name>/dist) that are missing or older than their sources, so
// `npm start` always runs the current code:
//
//   node scripts/ensure-build.mjs            every service
//   node scripts/ensure-build.mjs quorum sfu  those
//
// A service bundles workspace packages and, for the all-in-one, the other services, so any
// source under packages/ or services/ counts (tests excepted). When every dist is current this
// only compares file times.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const all = readdirSync(join(root, 'services')).filter((name) => {
  try {
    return statSync(join(root, 'services', name, 'package.json')).isFile();
  } catch {
    return false;
  }
});
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!all.includes(name)) {
    console.error(`[build] no service named ${name}; services: ${all.join(', ')}`);
    process.exit(2);
  }
}

function newest(path) {
  let info;
  try {
    info = statSync(path);
  } catch {
    return 0;
  }
  if (!info.isDirectory()) return /\.test\.ts$/.test(path) ? 0 : info.mtimeMs;
  let max = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    max = Math.max(max, newest(join(path, entry)));
  }
  return max;
}

const workspaces = ['packages', 'services'].flatMap((dir) =>
  readdirSync(join(root, dir)).map((name) => join(root, dir, name)),
);
const changedAt = Math.max(
  newest(join(root, 'scripts/build-service.mjs')),
  newest(join(root, 'package-lock.json')),
  ...workspaces.flatMap((dir) => [newest(join(dir, 'src')), newest(join(dir, 'package.json'))]),
);

function builtAt(name) {
  try {
    return statSync(join(root, 'services', name, 'dist/main.js')).mtimeMs;
  } catch {
    return 0;
  }
}

const stale = (wanted.length > 0 ? wanted : all).filter((name) => builtAt(name) < changedAt);
if (stale.length === 0) process.exit(0);

console.log(`[build] compiling ${stale.join(', ')} (dist missing or older than the sources)…`);
const result = spawnSync('npm', ['run', 'build', '--silent', ...stale.flatMap((name) => ['-w', `@quorum/${name}`])], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) {
  console.error('[build] compiling failed; see the errors above.');
  process.exit(result.status ?? 1);
}
