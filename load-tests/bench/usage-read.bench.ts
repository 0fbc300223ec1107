/**
 * (e) Reading usage at scale: `usage.summary` and the CSV export over a month with a million
 * usage events, against baselines measured in the same run.
 *
 * Quorum runs as a child process (PostgreSQL + NATS) on a fresh database. The owner of one
 * organization signs up through the API; then `usage.recorded` events are appended to the event
 * store (the metering consumer's shape: 10 per meeting, 4 participants × 2 intervals and the
 * meeting × 2, over the month's days and 50 hosts): `bigMeetings` meetings for that organization
 * and `smallMeetings` for each of `orgs - 1` others, each created (`organization.created`) first. Quorum's own projector builds the usage read
 * models from them, and the figures start once it has caught up.
 *
 * - `usage.summary` p95 by day, meter and host, and `finance.orgs` (pages of 50 over every
 *   organization, the owner granted operator access from the command line) p95 by name, meeting
 *   minutes and overage; baseline: `org.get` (a one-row read on the same HTTP path).
 * - `GET /usage/export.csv` of the big organization's month: rows/s, with Quorum's resident memory
 *   (RSS, sampled every 100 ms, garbage included) while it streams; baseline: the same rows read
 *   straight from PostgreSQL in keyset pages of 2,000 (what the export reads), without HTTP or CSV.
 *   Then the same export again with Quorum's live heap read through its inspector every 500 ms
 *   (after a full collection): how much the export holds, which must not grow with the rows.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { createPgSqlDatabase, type SqlDatabase } from '@quorum/db';
import { streamIds } from '@quorum/domain';
import type { NewEvent } from '@quorum/eventstore';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { createBenchDatabase, NATS_URL } from './env';
import { inspectorUrlIn, openHeapProbe } from './heap-probe';
import { createClient, freePort, signUpWithOrg, startQuorum, stopQuorum } from './quorum-child';
import { sleep, summarize, type Summary } from './stats';

export interface UsageReadBenchResult {
  orgs: number;
  meetings: number;
  usageEvents: number;
  seedMs: number;
  projectMs: number;
  period: string;
  summary: { groupBy: string; latency: Summary; rows: number }[];
  /** `finance.orgs` pages of 50 over every organization, by sort. */
  financeOrgs: { sort: string; latency: Summary; rows: number }[];
  baseline: Summary;
  exportRows: number;
  exportRowsPerSec: number;
  exportBaselineRowsPerSec: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** Quorum's live heap (after a full collection) before the export, and its highest while exporting. */
  heapBeforeMiB: number;
  heapPeakMiB: number;
  target: {
    summaryP95Ms: number;
    summaryPass: boolean;
    financeP95Ms: number;
    financePass: boolean;
    exportPass: boolean;
    memoryPass: boolean;
  };
}

export interface UsageReadBenchOptions {
  orgs?: number;
  bigMeetings?: number;
  smallMeetings?: number;
  log?: (line: string) => void;
}

const HOSTS = 50;
const CALLS = 200;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APPEND_BATCH = 2_000;

function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}

/** The usage events of one meeting in `period`, as the metering consumer writes them. */
function meetingUsage(orgId: string, period: string, meeting: number, hosts: readonly string[]): NewEvent[] {
  const year = Number(period.slice(0, 4));
  const month = Number(period.slice(4)) - 1;
  const days = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  // Meetings start on 5-minute marks spread over the month, and run 10 minutes.
  const start = Date.UTC(year, month, 1 + (meeting % days), (meeting * 7) % 23, ((meeting * 13) % 11) * 5);
  const sessionId = randomUUID();
  const host = hosts[meeting % hosts.length]!;
  const people = [host, randomUUID(), randomUUID(), randomUUID()];
  const joins = people.map(() => randomUUID());
  const events: NewEvent[] = [];
  const push = (
    meter: 'participant_minutes' | 'meeting_minutes',
    participantId: string | null,
    stint: string,
    piece: number,
  ) => {
    const from = new Date(start + piece * 300_000).toISOString();
    const to = new Date(start + (piece + 1) * 300_000).toISOString();
    events.push({
      id: randomUUID(),
      type: 'usage.recorded',
      version: 1,
      data: {
        meter,
        sessionId,
        hostUserId: host,
        participantId,
        stint,
        period,
        from,
        to,
        seconds: 300,
        sources: [stint],
      },
      metadata: { orgId, actor: { kind: 'system', id: 'metering' }, correlationId: sessionId, causationId: stint },
    });
  };
  for (const [i, person] of people.entries())
    for (const piece of [0, 1]) push('participant_minutes', person, joins[i]!, piece);
  for (const piece of [0, 1]) push('meeting_minutes', null, joins[0]!, piece);
  return events;
}

export async function runUsageReadBench(options: UsageReadBenchOptions = {}): Promise<UsageReadBenchResult> {
  const orgs = options.orgs ?? 1_000;
  const bigMeetings = options.bigMeetings ?? 100_000;
  const smallMeetings = options.smallMeetings ?? 10;
  const log = options.log ?? (() => undefined);
  const db = await createBenchDatabase();
  const port = await freePort();
  const child = startQuorum(
    {
      DATABASE_URL: db.url,
      NATS_URL,
      NATS_NAMESPACE: `bench${randomBytes(4).toString('hex')}`,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      SFU: 'off',
      DATA_DIR: `/tmp/quorum-bench-${randomBytes(4).toString('hex')}`,
      AUTH_SIGNUP_IP_LIMIT: '1000',
      READ_WAIT_TIMEOUT_MS: '10000',
    },
    // The inspector on loopback, for reading the live heap around the export.
    { nodeArgs: ['--inspect=127.0.0.1:0'] },
  );
  const client = createClient(port);
  let sql: SqlDatabase | undefined;
  try {
    const ready = Date.now() + 60_000;
    for (;;) {
      const answer = await client.request('GET', '/health', undefined).catch(() => undefined);
      if (answer?.status === 200) break;
      if (Date.now() > ready) throw new Error(`Quorum did not start:\n${child.output.join('\n')}`);
      await sleep(200);
    }
    const inspectorUrl = inspectorUrlIn(child.output);
    if (!inspectorUrl) throw new Error(`Quorum's inspector address is not in its output:\n${child.output.join('\n')}`);
    const { owner, token, orgId } = await signUpWithOrg(client, 'bench', 'Big');

    const now = new Date();
    const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    const period = `${last.getUTCFullYear()}${String(last.getUTCMonth() + 1).padStart(2, '0')}`;
    sql = createPgSqlDatabase({ connectionString: db.url, max: 8 });
    const store = await PostgresEventStore.create(sql, { migrate: false });
    const hosts = Array.from({ length: HOSTS }, () => randomUUID());
    const seedStarted = performance.now();
    let usageEvents = 0;
    let lastPosition = 0n;
    let pending: NewEvent[] = [];
    const flush = async (org: string) => {
      if (pending.length === 0) return;
      lastPosition = (await store.appendToStream(streamIds.usage(org, period), pending)).position;
      usageEvents += pending.length;
      pending = [];
    };
    for (let m = 0; m < bigMeetings; m++) {
      pending.push(...meetingUsage(orgId, period, m, hosts));
      if (pending.length >= APPEND_BATCH) await flush(orgId);
    }
    await flush(orgId);
    for (let o = 1; o < orgs; o++) {
      const other = randomUUID();
      // A real organization, as the organization decider writes one, so the finance review lists it.
      await store.appendToStream(streamIds.organization(other), [
        {
          id: randomUUID(),
          type: 'organization.created',
          version: 1,
          data: {
            orgId: other,
            name: `Organization ${o}`,
            plan: (['free', 'pro', 'business'] as const)[o % 3],
            ownerUserId: randomUUID(),
            ownerEmail: `owner-${o}@example.com`,
            trialEndsAt: new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth(), 15)).toISOString(),
          },
          metadata: {
            orgId: other,
            actor: { kind: 'system', id: 'bench' },
            correlationId: randomUUID(),
            causationId: null,
          },
        },
      ]);
      for (let m = 0; m < smallMeetings; m++) pending.push(...meetingUsage(other, period, m, hosts));
      await flush(other);
    }
    const seedMs = performance.now() - seedStarted;
    log(`    appended ${usageEvents} usage events in ${(seedMs / 1000).toFixed(1)} s; waiting for the projection`);

    const projectStarted = performance.now();
    const caughtUp = Date.now() + 900_000;
    for (;;) {
      const a = await client.request(
        'GET',
        '/trpc/usage.summary',
        { orgId, period, groupBy: 'meter', minPosition: lastPosition.toString() },
        token,
      );
      if (a.status === 200) break;
      if (Date.now() > caughtUp) throw new Error(`the projection did not catch up: ${JSON.stringify(a.body)}`);
      await sleep(1_000);
    }
    const projectMs = performance.now() - projectStarted;
    log(`    projected in ${(projectMs / 1000).toFixed(1)} s`);

    const timeCalls = async (procedure: string, input: unknown) => {
      const samples: number[] = [];
      let rows = 0;
      for (let i = 0; i < CALLS; i++) {
        const t = performance.now();
        const data = await client.call<{ rows?: unknown[]; orgs?: unknown[] }>('GET', procedure, input, token);
        samples.push(performance.now() - t);
        rows = (data.rows ?? data.orgs)?.length ?? 0;
      }
      return { latency: summarize(samples), rows };
    };
    const baseline = (await timeCalls('org.get', { orgId })).latency;
    // The owner is also an operator, granted as operators are: from the command line.
    const grant = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'services/gateway/src/operators-cli.ts', 'grant', owner.user.id],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, DATABASE_URL: db.url },
        encoding: 'utf8',
      },
    );
    if (grant.status !== 0) throw new Error(`operators grant failed: ${grant.stderr}`);
    const financeOrgs = [];
    for (const sort of ['name', 'meetingMinutes', 'overage']) {
      financeOrgs.push({ sort, ...(await timeCalls('finance.orgs', { period, sort, order: 'desc', limit: 50 })) });
    }
    const summary = [];
    for (const groupBy of ['day', 'meter', 'host']) {
      summary.push({ groupBy, ...(await timeCalls('usage.summary', { orgId, period, groupBy })) });
    }

    const exportAll = (): Promise<number> =>
      new Promise<number>((resolve, reject) => {
        const req = http.get(
          {
            host: '127.0.0.1',
            port,
            path: `/usage/export.csv?orgId=${orgId}&period=${period}`,
            headers: { authorization: `Bearer ${token}` },
          },
          (res) => {
            if (res.statusCode !== 200) {
              reject(new Error(`export answered ${res.statusCode}`));
              res.resume();
              return;
            }
            let lines = 0;
            res.on('data', (chunk: Buffer) => {
              for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
            });
            res.on('end', () => resolve(lines - 1));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
      });

    // The export, with Quorum's resident memory sampled while it streams.
    const rssBeforeMiB = rssMiB(child.proc.pid!);
    let rssPeakMiB = rssBeforeMiB;
    const sampler = setInterval(() => {
      const now = rssMiB(child.proc.pid!);
      if (now > rssPeakMiB) rssPeakMiB = now;
    }, 100);
    const exportStarted = performance.now();
    const exportRows = await exportAll();
    const exportMs = performance.now() - exportStarted;
    clearInterval(sampler);

    // The same export again, with Quorum's live heap read every 500 ms (a full collection, then
    // the heap in use): what the export holds as it goes, which must not grow with the rows. Kept
    // apart from the timed run above, whose rate the collections would slow.
    const probe = await openHeapProbe(inspectorUrl);
    const heapBeforeMiB = await probe.liveHeapMiB();
    let heapPeakMiB = heapBeforeMiB;
    let probing = true;
    const probed = (async () => {
      while (probing) {
        await sleep(500);
        heapPeakMiB = Math.max(heapPeakMiB, await probe.liveHeapMiB());
      }
    })();
    const heapExportRows = await exportAll();
    probing = false;
    await probed;
    probe.close();
    if (heapExportRows !== exportRows)
      throw new Error(`the second export had ${heapExportRows} rows, not ${exportRows}`);

    // Baseline: the same rows from PostgreSQL in keyset pages, as the export reads them.
    const { rows: active } = await sql.query<{ version: number }>(
      `SELECT version FROM projection_active WHERE projection = 'core'`,
    );
    const schema = `rm_v${active[0]?.version ?? 1}`;
    const baselineStarted = performance.now();
    let baselineRows = 0;
    let after = '';
    for (;;) {
      const { rows } = await sql.query<{ event_id: string; position: string }>(
        `SELECT event_id, position, meter, session_id, host_user_id, participant_id, stint, from_at, to_at, seconds, day::text, sources
           FROM ${schema}.usage_records WHERE org_id = $1 AND period = $2 AND position > $3::bigint ORDER BY position LIMIT 2000`,
        [orgId, period, after || '0'],
      );
      if (rows.length === 0) break;
      baselineRows += rows.length;
      after = rows[rows.length - 1]!.position;
    }
    const baselineMs = performance.now() - baselineStarted;

    const exportRowsPerSec = (exportRows / exportMs) * 1000;
    const p95 = Math.max(...summary.map((s) => s.latency.p95));
    const financeP95 = Math.max(...financeOrgs.map((s) => s.latency.p95));
    return {
      orgs,
      meetings: bigMeetings + (orgs - 1) * smallMeetings,
      usageEvents,
      seedMs,
      projectMs,
      period,
      summary,
      financeOrgs,
      baseline,
      exportRows,
      exportRowsPerSec,
      exportBaselineRowsPerSec: (baselineRows / baselineMs) * 1000,
      rssBeforeMiB,
      rssPeakMiB,
      heapBeforeMiB,
      heapPeakMiB,
      target: {
        summaryP95Ms: p95,
        summaryPass: p95 < 100,
        financeP95Ms: financeP95,
        financePass: financeP95 < 300,
        exportPass: exportRowsPerSec >= 50_000,
        memoryPass: heapPeakMiB - heapBeforeMiB < 50,
      },
    };
  } finally {
    client.close();
    await stopQuorum(child);
    await sql?.close();
    await db.drop();
  }
}
