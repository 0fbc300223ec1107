/**
 * The command scenario of load-tests/k6/commands.js, sent by an outside open-loop load
 * generator (vegeta, a Go binary: `scripts/vegeta.sh` installs it) so the figures do not come
 * from the bench's own client alone. Set-up as the scenario does it (one sign-up, `orgs`
 * business organizations with 10 seats each), then `rate` requests/s for `durationS`,
 * `seats.purchase` / `seats.release` of one seat round-robin over the organizations and
 * alternating per organization, with the scenario's thresholds: p99 < 250 ms, no failed request.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { delimiter, join } from 'node:path';
import { commandFor, setUpOrgs, type BenchClient, type BenchOrg } from './bench-quorum';

export const LOAD_GENERATOR_THRESHOLDS = { maxP99Ms: 250, maxFailed: 0 } as const;

/** The version scripts/vegeta.sh installs. */
export const VEGETA_VERSION = 'v12.13.0';

export const VEGETA_INSTALL_HINT = `run scripts/vegeta.sh (go install github.com/tsenart/vegeta/v12@${VEGETA_VERSION} into ~/.cache/quorum/vegeta), or set VEGETA_BIN`;

export interface LoadGeneratorReport {
  requests: number;
  /** Requests started per second. */
  rate: number;
  /** Successful responses per second. */
  throughput: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  failed: number;
  statusCodes: Record<string, number>;
  errors: string[];
  thresholds: { p99: boolean; failed: boolean };
}

export interface LoadGeneratorResult {
  tool: string;
  targetRate: number;
  durationS: number;
  orgs: number;
  report: LoadGeneratorReport;
  pass: boolean;
}

/** Where scripts/vegeta.sh puts the binary. */
export const cachedVegeta = (env: NodeJS.ProcessEnv = process.env) =>
  join(env.QUORUM_CACHE_DIR ?? join(os.homedir(), '.cache', 'quorum'), 'vegeta', VEGETA_VERSION, 'vegeta');

/** The vegeta binary: $VEGETA_BIN, then scripts/vegeta.sh's cache, then PATH; `undefined` when none is there. */
export function findVegeta(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [
    env.VEGETA_BIN,
    cachedVegeta(env),
    ...(env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'vegeta')),
  ];
  return candidates.find((path): path is string => !!path && existsSync(path));
}

/** One cycle of the scenario as vegeta's JSON targets, one per line: vegeta sends them round-robin. */
export function vegetaTargets(baseUrl: string, orgs: readonly BenchOrg[]): string {
  const lines: string[] = [];
  for (let i = 0; i < orgs.length * 2; i++) {
    const { org, procedure } = commandFor(orgs, i);
    lines.push(
      JSON.stringify({
        method: 'POST',
        url: `${baseUrl}/trpc/${procedure}`,
        body: Buffer.from(JSON.stringify({ orgId: org.orgId, quantity: 1 })).toString('base64'),
        header: { 'Content-Type': ['application/json'], Authorization: [`Bearer ${org.token}`] },
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

interface VegetaJsonReport {
  latencies: Record<'50th' | '95th' | '99th' | 'max', number>;
  requests: number;
  rate: number;
  throughput: number;
  success: number;
  status_codes: Record<string, number>;
  errors: string[] | null;
}

/** `vegeta report -type=json` read, with the scenario's thresholds applied. */
export function readVegetaReport(json: string): LoadGeneratorReport {
  const r = JSON.parse(json) as VegetaJsonReport;
  const toMs = (ns: number) => ns / 1e6;
  const failed = r.requests - Math.round(r.success * r.requests);
  const p99Ms = toMs(r.latencies['99th']);
  return {
    requests: r.requests,
    rate: r.rate,
    throughput: r.throughput,
    p50Ms: toMs(r.latencies['50th']),
    p95Ms: toMs(r.latencies['95th']),
    p99Ms,
    maxMs: toMs(r.latencies.max),
    failed,
    statusCodes: r.status_codes,
    errors: r.errors ?? [],
    thresholds: {
      p99: p99Ms < LOAD_GENERATOR_THRESHOLDS.maxP99Ms,
      failed: r.requests > 0 && failed <= LOAD_GENERATOR_THRESHOLDS.maxFailed,
    },
  };
}

function run(bin: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.stdout.on('data', (c: Buffer) => out.push(c));
    proc.stderr.on('data', (c: Buffer) => err.push(c));
    proc.once('error', reject);
    proc.once('exit', (code) =>
      code === 0
        ? resolve(Buffer.concat(out).toString('utf8'))
        : reject(
            new Error(`${bin} ${args[0]} exited with ${code}: ${Buffer.concat(err).toString('utf8').slice(0, 500)}`),
          ),
    );
  });
}

export interface LoadGeneratorOptions {
  vegeta: string;
  client: BenchClient;
  port: number;
  rate: number;
  durationS: number;
  orgs?: number;
}

export async function runLoadGenerator(options: LoadGeneratorOptions): Promise<LoadGeneratorResult> {
  const { vegeta, client, port, rate, durationS } = options;
  const orgCount = options.orgs ?? 50;
  const { orgs } = await setUpOrgs(client, { orgs: orgCount, users: 1 });
  const dir = mkdtempSync(join(os.tmpdir(), 'quorum-bench-vegeta-'));
  try {
    const targets = join(dir, 'targets.jsonl');
    const results = join(dir, 'results.bin');
    writeFileSync(targets, vegetaTargets(`http://127.0.0.1:${port}`, orgs));
    await run(vegeta, [
      'attack',
      '-format=json',
      `-targets=${targets}`,
      `-rate=${rate}/1s`,
      `-duration=${durationS}s`,
      '-timeout=10s',
      `-output=${results}`,
    ]);
    const report = readVegetaReport(await run(vegeta, ['report', '-type=json', results]));
    return {
      tool: vegeta === cachedVegeta() ? `vegeta ${VEGETA_VERSION} (scripts/vegeta.sh)` : `vegeta at ${vegeta}`,
      targetRate: rate,
      durationS,
      orgs: orgCount,
      report,
      pass: report.thresholds.p99 && report.thresholds.failed,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
