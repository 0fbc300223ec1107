/**
 * docs/architecture.md walks a newcomer from a tRPC call to its read model and from a meeting
 * join to the SFU by naming files: every repository path it names must exist, so a file that
 * moves or splits takes the doc with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const ROOTS = ['packages/', 'services/', 'web/', 'test/', 'scripts/', 'load-tests/', 'docs/'];

function namedPaths(doc: string): string[] {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const paths = [...text.matchAll(/`([^`\s]+)`/g)]
    .map((m) => m[1]!)
    .filter((p) => ROOTS.some((r) => p.startsWith(r)))
    // `services/<name>` rows name folders; placeholders such as `rm_v<N>` are not paths.
    .filter((p) => !/[<>*]/.test(p));
  return [...new Set(paths)];
}

describe('docs/architecture.md', () => {
  const paths = namedPaths('docs/architecture.md');

  it('names the files of both walk-throughs', () => {
    expect(paths).toContain('services/gateway/src/commands/command-handler.ts');
    expect(paths).toContain('services/sfu/src/signaling/join.handler.ts');
    expect(paths.length).toBeGreaterThan(40);
  });

  it('names only files and folders that exist', () => {
    expect(paths.filter((p) => !existsSync(join(ROOT, p.replace(/:\d+$/, ''))))).toEqual([]);
  });
});
