/**
 * (g) `/v1` event streams fanned out: many concurrent Server-Sent Event streams of one
 * organization while its events are appended at a steady rate.
 *
 * Quorum as a child process (inspector on loopback) on a fresh database and a NATS namespace of
 * its own. One business organization, an admin API key; `streams` streams opened with it over
 * keep-alive loopback sockets (`http.get`), all from now. Then an open loop of appends of
 * `session.scheduled` (each on its own stream) straight to Quorum's event store from this
 * process, as part (f) does, at `rate` per second for `durationMs`, and a bounded drain: the
 * streams' fan-out is measured at the rate asked, not at what the command path carries (that is
 * part (b)). Quorum's relay finds appends from another process by its poll (every 20 ms).
 *
 * Measured: every stream received every event of the window in order, once (count, strictly
 * rising sequences, and sums of the sequences and their squares, against the log paged over
 * `/v1/events` afterwards); event → received latency (the envelope's `time`, the append, to the
 * message's arrival; on one stream in `latencyEvery` to keep this process's
 * parsing light); Quorum's live heap (a full collection, then the heap in use) and RSS when the
 * streams are open, a third of the way in, and after the drain. Baseline in the same run: the
 * same latency with a single stream, before the others open.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createPgSqlDatabase } from '@quorum/db';
import { streamIds } from '@quorum/domain';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { createBenchDatabase, deleteBusStream, NATS_URL } from './env';
import { inspectorUrlIn, openHeapProbe, type HeapProbe } from './heap-probe';
import { createClient, freePort, procCpuMs, signUpWithOrg, startQuorum, stopQuorum } from './quorum-child';
import { sleep, summarize, type Summary } from './stats';

export interface SseBenchResult {
  streams: number;
  /** Streams that opened (200) before the appends started. */
  opened: number;
  targetRate: number;
  durationMs: number;
  appends: number;
  /** From the first append sent to the last one returned. */
  answeredMs: number;
  appendErrors: number;
  achievedRate: number;
  /** Public events of the organization during the window, from the log. */
  events: number;
  /** Streams whose events equal the log's (count, order, once each). */
  complete: number;
  /** Streams that saw a sequence not above the one before (a repeat or a reordering). */
  outOfOrder: number;
  /** Streams cut off or ended during the run. */
  ended: number;
  latency: Summary;
  /** The same latency with one stream open, before the others: the baseline. */
  baseline: Summary;
  appendLatency: Summary;
  heap: { openMiB: number; midMiB: number; endMiB: number };
  rss: { openMiB: number; midMiB: number; endMiB: number };
  childCpuPercent: number;
  drained: boolean;
  target: { maxHeapGrowthMiB: number; memoryPass: boolean; deliveryPass: boolean; rateKept: boolean };
}

export interface SseBenchOptions {
  streams?: number;
  rate?: number;
  durationMs?: number;
  baselineMs?: number;
  latencyEvery?: number;
  log?: (line: string) => void;
}

interface StreamTally {
  status: number;
  count: number;
  last: number;
  sum: number;
  squares: number;
  outOfOrder: boolean;
  ended: boolean;
  latencies: number[] | undefined;
  req: http.ClientRequest;
}

const MAX_HEAP_GROWTH_MIB = 50;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : Number.NaN;
}

/** Opens one stream and tallies what arrives; resolves once its head is in. */
function openStream(
  port: number,
  path: string,
  apiKey: string,
  agent: http.Agent,
  measureLatency: boolean,
): Promise<StreamTally> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const req = http.get(
      { host: '127.0.0.1', port, path, agent, headers: { 'x-api-key': apiKey, accept: 'text/event-stream' } },
      (res) => {
        const tally: StreamTally = {
          status: res.statusCode ?? 0,
          count: 0,
          last: 0,
          sum: 0,
          squares: 0,
          outOfOrder: false,
          ended: false,
          latencies: measureLatency ? [] : undefined,
          req,
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const now = Date.now();
          buffered += chunk;
          let end = buffered.indexOf('\n\n');
          while (end !== -1) {
            const block = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            end = buffered.indexOf('\n\n');
            if (!block.startsWith('id: ')) {
              if (block.startsWith('event: error')) tally.ended = true;
              continue;
            }
            const seq = Number(block.slice(4, block.indexOf('\n')));
            if (seq <= tally.last) tally.outOfOrder = true;
            tally.last = seq;
            tally.count++;
            tally.sum += seq;
            tally.squares += seq * seq;
            if (tally.latencies) {
              const at = block.indexOf('"time":"');
              if (at !== -1) tally.latencies.push(now - Date.parse(block.slice(at + 8, block.indexOf('"', at + 8))));
            }
          }
        });
        res.on('end', () => {
          tally.ended = true;
        });
        res.on('error', () => {
          tally.ended = true;
        });
        resolve(tally);
      },
    );
    req.on('error', reject);
  });
}

export async function runSseBench(options: SseBenchOptions = {}): Promise<SseBenchResult> {
  const streamCount = options.streams ?? 1_000;
  const rate = options.rate ?? 500;
  const durationMs = options.durationMs ?? 30_000;
  const baselineMs = options.baselineMs ?? 5_000;
  const latencyEvery = options.latencyEvery ?? 10;
  const log = options.log ?? (() => undefined);
  const db = await createBenchDatabase();
  const port = await freePort();
  const namespace = `bench${randomBytes(4).toString('hex')}`;
  const child = startQuorum(
    {
      DATABASE_URL: db.url,
      NATS_URL,
      NATS_NAMESPACE: namespace,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SFU: 'off',
      NODE_ENV: 'production',
      DATA_DIR: `/tmp/quorum-bench-${randomBytes(4).toString('hex')}`,
      AUTH_SECRET: randomBytes(32).toString('hex'),
      // A thousand streams opened with one key in a second are a thousand /v1 calls.
      V1_RATE_LIMIT_PER_MINUTE: '100000',
    },
    { nodeArgs: ['--inspect=127.0.0.1:0'] },
  );
  const client = createClient(port);
  const sql = createPgSqlDatabase({ connectionString: db.url, max: 20 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: streamCount + 16 });
  const tallies: StreamTally[] = [];
  let probe: HeapProbe | undefined;
  try {
    const readyBy = Date.now() + 90_000;
    for (;;) {
      if (child.proc.exitCode !== null) throw new Error(`Quorum exited:\n${child.output.slice(-20).join('\n')}`);
      const answer = await client.request('GET', '/health/ready', undefined).catch(() => undefined);
      if (answer?.status === 200) break;
      if (Date.now() > readyBy) throw new Error(`Quorum not ready after 90 s:\n${child.output.slice(-20).join('\n')}`);
      await sleep(200);
    }
    const inspectorUrl = inspectorUrlIn(child.output);
    if (!inspectorUrl) throw new Error(`Quorum's inspector address is not in its output:\n${child.output.join('\n')}`);
    probe = await openHeapProbe(inspectorUrl);
    const pid = child.proc.pid!;

    const { owner, token, orgId } = await signUpWithOrg(client, 'bench-sse', 'Fan-out');
    const store = await PostgresEventStore.create(sql);
    const key = await client.call<{ secret: string; position: string }>(
      'POST',
      'apiKeys.create',
      { orgId, name: 'streams', role: 'admin' },
      token,
    );
    await client.call('GET', 'apiKeys.list', { orgId, minPosition: key.position }, token);
    const path = `/v1/orgs/${orgId}/events/stream`;

    const appendLatency: number[] = [];
    let appends = 0;
    let appendErrors = 0;
    const errorSamples: string[] = [];
    let lastPosition = 0;
    /** Open loop of appends at `rate` for `ms`; resolves when every append has returned. */
    const sendEvents = async (ms: number, measured: boolean) => {
      const inFlight = new Set<Promise<void>>();
      const started = performance.now();
      let sent = 0;
      for (let due = started; due < started + ms; due += 1000 / rate) {
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        const at = performance.now();
        const sessionId = randomUUID();
        const id = randomUUID();
        const p = store
          .appendToStream(streamIds.session(sessionId), [
            {
              id,
              type: 'session.scheduled',
              version: 1,
              data: { sessionId, orgId, title: 'Fan-out', hostUserId: owner.user.id, scheduledFor: null },
              metadata: { orgId, actor: { kind: 'user', id: owner.user.id }, correlationId: id, causationId: null },
            },
          ])
          .then(
            (appended) => {
              if (measured) appendLatency.push(performance.now() - at);
              const position = Number(appended.position);
              if (position > lastPosition) lastPosition = position;
            },
            (err: Error) => {
              appendErrors++;
              if (errorSamples.length < 3) errorSamples.push(err.message);
            },
          );
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        sent++;
      }
      await Promise.all(inFlight);
      return { sent, elapsedMs: performance.now() - started };
    };
    /** The newest position of the organization's projected log, once it holds every answered command. */
    const newest = async () => {
      const until = Date.now() + 120_000;
      for (;;) {
        const answer = await client.request(
          'GET',
          '/trpc/events.list',
          { orgId, order: 'desc', limit: 1, minPosition: String(lastPosition) },
          token,
        );
        const data = answer.body.result?.data as { events: Array<{ position: string }> } | undefined;
        if (answer.status === 200 && data) return Number(data.events[0]?.position ?? 0);
        // A projection behind by more than the read wait answers TIMEOUT: ask again.
        if (Date.now() > until) throw new Error(`events.list answered ${answer.status}: ${answer.body.error?.message}`);
      }
    };
    /** The log's public events after `after` (paged over `/v1/events`), as every stream should have them. */
    const reference = async (after: number) => {
      const ref = { count: 0, sum: 0, squares: 0, last: after };
      let cursor = String(after);
      for (;;) {
        const res = await new Promise<{ data: Array<{ sequence: string }>; next: string | null }>((resolve, reject) => {
          http
            .get(
              {
                host: '127.0.0.1',
                port,
                path: `/v1/orgs/${orgId}/events?after=${cursor}&limit=500`,
                agent,
                headers: { 'x-api-key': key.secret },
              },
              (r) => {
                const chunks: Buffer[] = [];
                r.on('data', (c: Buffer) => chunks.push(c));
                r.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
                r.on('error', reject);
              },
            )
            .on('error', reject);
        });
        for (const e of res.data) {
          const seq = Number(e.sequence);
          ref.count++;
          ref.sum += seq;
          ref.squares += seq * seq;
          ref.last = seq;
        }
        if (res.next === null) return ref;
        cursor = res.next;
      }
    };
    /** Waits until each tally has reached `last` (or ended), within `ms`. */
    const drain = async (streams: StreamTally[], last: number, ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        if (streams.every((t) => t.ended || t.last >= last)) return true;
        await sleep(100);
      }
      return false;
    };

    // Baseline: one stream at the same rate.
    const single = await openStream(port, path, key.secret, agent, true);
    await sleep(500);
    const beforeBaseline = await newest();
    await sendEvents(baselineMs, false);
    await drain([single], (await reference(beforeBaseline)).last, 30_000);
    single.req.destroy();
    const baseline = summarize(single.latencies ?? []);
    log(
      `    baseline, one stream: p50 ${baseline.p50.toFixed(1)} ms, p99 ${baseline.p99.toFixed(1)} ms (${baseline.count} events)`,
    );

    // Every stream opens; they count from the first event after `from`.
    for (let i = 0; i < streamCount; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, streamCount - i) }, (_, j) =>
          openStream(port, path, key.secret, agent, (i + j) % latencyEvery === 0),
        ),
      );
      tallies.push(...batch);
    }
    const opened = tallies.filter((t) => t.status === 200).length;
    await sleep(1_000);
    const from = await newest();
    const heapOpen = await probe.liveHeapMiB();
    const rssOpen = rssMiB(pid);
    log(
      `    ${opened} of ${streamCount} streams open; Quorum live heap ${heapOpen.toFixed(1)} MiB, RSS ${rssOpen.toFixed(0)} MiB`,
    );

    const cpuStart = procCpuMs(pid);
    const wallStart = performance.now();
    let heapMid = Number.NaN;
    let rssMid = Number.NaN;
    const midProbe = (async () => {
      await sleep(durationMs / 3);
      heapMid = await probe!.liveHeapMiB();
      rssMid = rssMiB(pid);
    })();
    const window = await sendEvents(durationMs, true);
    await midProbe;
    appends = window.sent;
    await newest();
    const ref = await reference(from);
    const drained = await drain(tallies, ref.last, 60_000);
    const childCpuPercent = ((procCpuMs(pid) - cpuStart) / (performance.now() - wallStart)) * 100;
    const heapEnd = await probe.liveHeapMiB();
    const rssEnd = rssMiB(pid);
    log(
      `    appended ${appends} events in ${(window.elapsedMs / 1000).toFixed(1)} s (${appendErrors} errors${errorSamples.length ? `: ${errorSamples.join('; ')}` : ''}); ${ref.count} events; drained: ${drained}`,
    );
    const { count, sum, squares } = ref;
    const complete = tallies.filter(
      (t) => t.status === 200 && !t.outOfOrder && t.count === count && t.sum === sum && t.squares === squares,
    ).length;
    const latencies = tallies.flatMap((t) => t.latencies ?? []);
    const latency = summarize(latencies);
    const achievedRate = (appends / window.elapsedMs) * 1000;
    return {
      streams: streamCount,
      opened,
      targetRate: rate,
      durationMs,
      appends,
      answeredMs: window.elapsedMs,
      appendErrors,
      achievedRate,
      events: count,
      complete,
      outOfOrder: tallies.filter((t) => t.outOfOrder).length,
      ended: tallies.filter((t) => t.ended).length,
      latency,
      baseline,
      appendLatency: summarize(appendLatency),
      heap: { openMiB: heapOpen, midMiB: heapMid, endMiB: heapEnd },
      rss: { openMiB: rssOpen, midMiB: rssMid, endMiB: rssEnd },
      childCpuPercent,
      drained,
      target: {
        maxHeapGrowthMiB: MAX_HEAP_GROWTH_MIB,
        memoryPass: heapEnd - heapOpen < MAX_HEAP_GROWTH_MIB && heapEnd - heapMid < MAX_HEAP_GROWTH_MIB / 2,
        deliveryPass: complete === streamCount && count > 0,
        rateKept: achievedRate >= rate * 0.97,
      },
    };
  } finally {
    for (const t of tallies) t.req.destroy();
    agent.destroy();
    probe?.close();
    client.close();
    await stopQuorum(child);
    await deleteBusStream(namespace);
    await sql.close();
    await db.drop();
  }
}
