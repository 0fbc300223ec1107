import { readFileSync } from 'node:fs';
import { renderRoleMatrix } from '@quorum/domain';
import { describe, expect, it } from 'vitest';

const START = '<!-- catalog:start -->\n';
const END = '<!-- catalog:end -->';
const STALE = 'docs/roles.md is out of date: run node --import tsx scripts/docs-events.ts';

function generatedBlock(path: string): string | undefined {
  const text = readFileSync(new URL(path, import.meta.url), 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  return start < 0 || end < start ? undefined : text.slice(start + START.length, end);
}

describe('docs/roles.md', () => {
  it('holds the role matrix rendered from PERMISSIONS', () => {
    expect(generatedBlock('../../docs/roles.md'), STALE).toBe(renderRoleMatrix());
  });
});
