import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedVegeta, findVegeta, readVegetaReport, vegetaTargets } from './load-generator';

const orgs = [
  { orgId: 'org-a', token: 'token-a' },
  { orgId: 'org-b', token: 'token-b' },
];

describe('vegetaTargets', () => {
  it('lists one cycle of the scenario: round-robin over the orgs, purchase then release per org', () => {
    const lines = vegetaTargets('http://127.0.0.1:3000', orgs)
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { method: string; url: string; body: string; header: Record<string, string[]> });
    expect(lines.map((t) => [t.url, JSON.parse(Buffer.from(t.body, 'base64').toString('utf8'))])).toEqual([
      ['http://127.0.0.1:3000/trpc/seats.purchase', { orgId: 'org-a', quantity: 1 }],
      ['http://127.0.0.1:3000/trpc/seats.purchase', { orgId: 'org-b', quantity: 1 }],
      ['http://127.0.0.1:3000/trpc/seats.release', { orgId: 'org-a', quantity: 1 }],
      ['http://127.0.0.1:3000/trpc/seats.release', { orgId: 'org-b', quantity: 1 }],
    ]);
    expect(lines[1]!.method).toBe('POST');
    expect(lines[1]!.header).toEqual({ 'Content-Type': ['application/json'], Authorization: ['Bearer token-b'] });
  });
});

describe('readVegetaReport', () => {
  const report = (over: Record<string, unknown>) =>
    JSON.stringify({
      latencies: {
        total: 0,
        mean: 0,
        '50th': 4_000_000,
        '90th': 0,
        '95th': 20_000_000,
        '99th': 120_000_000,
        max: 300_000_000,
        min: 0,
      },
      requests: 1000,
      rate: 100.01,
      throughput: 99.9,
      success: 1,
      status_codes: { '200': 1000 },
      errors: [],
      ...over,
    });

  it('reads vegeta latencies in nanoseconds as milliseconds and passes both thresholds', () => {
    const r = readVegetaReport(report({}));
    expect(r).toMatchObject({ requests: 1000, p50Ms: 4, p95Ms: 20, p99Ms: 120, maxMs: 300, failed: 0 });
    expect(r.thresholds).toEqual({ p99: true, failed: true });
  });

  it('fails the p99 threshold at 250 ms and the failure threshold at one failed request', () => {
    const r = readVegetaReport(
      report({
        latencies: { '50th': 1, '95th': 1, '99th': 250_000_000, max: 1 },
        success: 0.999,
        status_codes: { '200': 999, '0': 1 },
        errors: ['connection reset'],
      }),
    );
    expect(r.failed).toBe(1);
    expect(r.errors).toEqual(['connection reset']);
    expect(r.thresholds).toEqual({ p99: false, failed: false });
  });

  it('does not pass a run that sent nothing', () => {
    const r = readVegetaReport(report({ requests: 0, success: 0, status_codes: {}, errors: null }));
    expect(r.thresholds.failed).toBe(false);
  });
});

describe('findVegeta', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vegeta-'));
  const bin = join(dir, 'vegeta');
  writeFileSync(bin, '');

  it('takes VEGETA_BIN first, then the cache of scripts/vegeta.sh, then PATH', () => {
    expect(findVegeta({ VEGETA_BIN: bin, PATH: '' })).toBe(bin);
    const cache = mkdtempSync(join(tmpdir(), 'quorum-cache-'));
    expect(findVegeta({ QUORUM_CACHE_DIR: cache, PATH: dir })).toBe(bin);
    expect(cachedVegeta({ QUORUM_CACHE_DIR: cache })).toBe(join(cache, 'vegeta', 'v12.13.0', 'vegeta'));
  });

  it('answers nothing when no binary is there', () => {
    const cache = mkdtempSync(join(tmpdir(), 'quorum-cache-'));
    expect(findVegeta({ VEGETA_BIN: join(dir, 'missing'), QUORUM_CACHE_DIR: cache, PATH: '' })).toBeUndefined();
  });
});
