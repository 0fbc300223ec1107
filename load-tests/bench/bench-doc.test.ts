import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { machineTable, markedBlock, markers, readDoc, replaceMarkedBlock, type MachineFacts } from './bench-doc';

const K6 = markers('k6');

describe('markedBlock', () => {
  it('answers the block with its markers', () => {
    const doc = '# Benchmarks\n\n<!-- k6:start -->\nfigures\n<!-- k6:end -->\ntail\n';
    expect(markedBlock(doc, K6)).toBe('<!-- k6:start -->\nfigures\n<!-- k6:end -->');
  });

  it('answers nothing without a doc, without both markers, or with the end before the start', () => {
    expect(markedBlock(undefined, K6)).toBeUndefined();
    expect(markedBlock('# Benchmarks\n<!-- k6:start -->\nno end\n', K6)).toBeUndefined();
    expect(markedBlock('<!-- k6:end --> <!-- k6:start -->', K6)).toBeUndefined();
  });
});

describe('replaceMarkedBlock', () => {
  const block = '<!-- k6:start -->\nnew\n<!-- k6:end -->';

  it('replaces the block and keeps what is around it', () => {
    const doc = 'head\n\n<!-- k6:start -->\nold\n<!-- k6:end -->\n\ntail\n';
    expect(replaceMarkedBlock(doc, K6, block)).toBe(`head\n\n${block}\n\ntail\n`);
  });

  it('appends the block after a blank line when the doc has none', () => {
    expect(replaceMarkedBlock('head\n\n\n', K6, block)).toBe(`head\n\n${block}\n`);
    expect(replaceMarkedBlock('head <!-- k6:end --> <!-- k6:start -->', K6, block)).toBe(
      `head <!-- k6:end --> <!-- k6:start -->\n\n${block}\n`,
    );
  });
});

describe('machineTable', () => {
  it('lists the facts, then the services, then the load average', () => {
    const machine: MachineFacts = {
      date: '2026-12-01T10:00:00.000Z',
      command: 'npm run bench',
      nproc: 2,
      ramGiB: '7.8',
      cpu: 'AMD EPYC',
      kernel: 'Linux 6.1.0',
      node: 'v20.20.2',
      loadAverage: '0.50 0.40 0.30',
    };
    expect(machineTable(machine, [['NATS', 'nats-server 2.10.1']])).toBe(
      [
        '| | |',
        '|---|---|',
        '| date | 2026-12-01T10:00:00.000Z |',
        '| command | `npm run bench` (from the repository root) |',
        '| nproc | 2 |',
        '| RAM | 7.8 GiB |',
        '| CPU | AMD EPYC |',
        '| kernel | Linux 6.1.0 |',
        '| Node | v20.20.2 |',
        '| NATS | nats-server 2.10.1 |',
        '| load average at start | 0.50 0.40 0.30 |',
      ].join('\n'),
    );
  });
});

describe('readDoc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-doc-'));

  it('answers the text of a doc, and nothing for a doc not written yet', () => {
    writeFileSync(join(dir, 'doc.md'), '# Benchmarks\n');
    expect(readDoc(join(dir, 'doc.md'))).toBe('# Benchmarks\n');
    expect(readDoc(join(dir, 'missing.md'))).toBeUndefined();
  });

  it('throws when the doc exists but cannot be read', () => {
    expect(() => readDoc(dir)).toThrow(expect.objectContaining({ code: 'EISDIR' }));
  });
});
