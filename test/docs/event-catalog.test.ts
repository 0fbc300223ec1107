import { readFileSync } from 'node:fs';
import { eventSubject } from '@quorum/bus';
import { EVENT_SCHEMAS, renderEventCatalog } from '@quorum/domain';
import { describe, expect, it } from 'vitest';

const START = '<!-- catalog:start -->\n';
const END = '<!-- catalog:end -->';
const STALE = 'docs/events.md is out of date: run node --import tsx scripts/docs-events.ts';

function generatedBlock(path: string): string | undefined {
  const text = readFileSync(new URL(path, import.meta.url), 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  return start < 0 || end < start ? undefined : text.slice(start + START.length, end);
}

describe('docs/events.md', () => {
  it('holds the catalog rendered from EVENT_SCHEMAS', () => {
    expect(generatedBlock('../../docs/events.md'), STALE).toBe(renderEventCatalog());
  });

  it('names the subjects the bus really publishes on', () => {
    const catalog = renderEventCatalog();
    for (const [type, entry] of Object.entries(EVENT_SCHEMAS)) {
      // '<' and '>' are not allowed in a subject token, so render with a plain placeholder.
      const subject = eventSubject('ORG', entry.category, type).replace(/^evt\.ORG\./, 'evt.<orgId>.');
      expect(catalog).toContain(`\`${subject}\``);
    }
  });
});
