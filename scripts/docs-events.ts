/**
 * Regenerates the generated parts of the docs from the domain's registries:
 * `docs/events.md` from `EVENT_SCHEMAS` and `docs/roles.md` from `PERMISSIONS`. Each file keeps
 * its hand-written text; only the block between `<!-- catalog:start -->` and
 * `<!-- catalog:end -->` is replaced. `test/docs/*.test.ts` fail when a block is stale.
 *
 *   node --import tsx scripts/docs-events.ts
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderEventCatalog, renderRoleMatrix } from '@quorum/domain';

const START = '<!-- catalog:start -->';
const END = '<!-- catalog:end -->';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function writeBlock(file: string, generated: string): Promise<void> {
  const path = join(root, file);
  const text = await readFile(path, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) {
    throw new Error(`${file} needs a line "${START}" followed later by a line "${END}"`);
  }
  const next = `${text.slice(0, start + START.length)}\n${generated}${text.slice(end)}`;
  if (next === text) {
    process.stdout.write(`${relative(root, path)} is up to date\n`);
    return;
  }
  await writeFile(path, next);
  process.stdout.write(`${relative(root, path)} updated\n`);
}

await writeBlock('docs/events.md', renderEventCatalog());
await writeBlock('docs/roles.md', renderRoleMatrix());
