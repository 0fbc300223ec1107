/**
 * The README's folder table names every workspace and every part of `test/`, and nothing that
 * is not there: a new package or service that is not described fails here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

function folderTable(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('| folder | what lives there |');
  expect(start, 'README.md has no folder table').toBeGreaterThanOrEqual(0);
  const rows = readme.slice(start).split('\n').slice(2);
  const table = rows.slice(
    0,
    rows.findIndex((r) => !r.startsWith('|')),
  );
  return table.map((r) => /^\| `([^`]+)` \|/.exec(r)?.[1] ?? `(unreadable row: ${r})`);
}

const dirsUnder = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter((name) => statSync(join(ROOT, dir, name)).isDirectory())
    .map((name) => `${dir}/${name}`);

describe("README.md's folder table", () => {
  it('names every package, service and test folder, one row each', () => {
    const named = folderTable();
    const expected = [
      ...dirsUnder('packages'),
      ...dirsUnder('services'),
      ...dirsUnder('test'),
      'web',
      'scripts',
      'load-tests',
      'docs',
    ];
    expect(
      named.filter((f) => !expected.includes(f)),
      'rows naming something that is not a folder here',
    ).toEqual([]);
    expect(
      expected.filter((f) => !named.includes(f)),
      'folders the table leaves out',
    ).toEqual([]);
    expect(new Set(named).size).toBe(named.length);
  });

  it('names only folders that exist', () => {
    for (const f of folderTable()) expect(existsSync(join(ROOT, f)), f).toBe(true);
  });
});
