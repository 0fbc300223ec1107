/**
 * (f) Webhook delivery under a steady stream of public events.
 *
 * A fresh database, the PostgreSQL event store, a NATS namespace of its own, the relay and the
 * delivery engine (`@quorum/webhook-delivery/webhooks`) in this process, the engine with a
 * connection pool and event store of its own as its standalone process has, and `endpoints` receivers on 127.0.0.1 (HTTP keep-alive servers answering 204), one
 * endpoint per organization. Open loop: `rate` events per second for `durationMs`, round-robin
 * over the organizations (a few session streams each), one append per event as the gateway
 * writes them.
 *
 * Latency: from an append returning to its webhook arriving at the receiver (both clocks are
 * this process's). Baseline in the same run: the same append to the bus handing the event to a
 * plain durable consumer (what any consumer of the bus waits for anyway). Correctness: every
 * event arrives, duplicates carry the same `webhook-id`, and a sample of signatures verifies
 * with `standardwebhooks`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NatsBus } from '@quorum/bus/nats';
import { createPgSqlDatabase, migratePublicSchema } from '@quorum/db';
import { streamIds } from '@quorum/domain';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { Relay } from '@quorum/relay/relay';
import { createEndpoint } from '@quorum/webhook-delivery/testing';
import { Webhooks } from '@quorum/webhook-delivery/webhooks';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { createBenchDatabase, NATS_URL } from './env';
import { int, ms, sleep, summarize, verdict, type Row, type Summary } from './stats';

export interface WebhooksBenchResult {
  targetRate: number;
  durationMs: number;
  endpoints: number;
  workers: number;
  events: number;
  achievedRate: number;
  /** Append → the webhook received by its endpoint (first arrival). */
  deliveryLag: Summary;
  /** Same append → delivered to a plain bus consumer: the baseline. */
  busLag: Summary;
  /** Append → the delivery row added by the fan-out. */
  fanOutLag: Summary;
  /** Delivery row added by the fan-out → its first attempt starting: time spent waiting for a worker. */
  queueWait: Summary;
  /** Events never received within the drain time. */
  missing: number;
  /** Requests received beyond one per event (each with its event's webhook-id). */
  duplicates: number;
  signaturesChecked: number;
  signaturesOk: boolean;
  cpuPercent: number;
  target: { maxP99Ms: number; pass: boolean; rateKept: boolean };
}

export interface WebhooksBenchOptions {
  rate?: number;
  durationMs?: number;
  endpoints?: number;
  workers?: number;
  log?: (line: string) => void;
}

/** Session streams per organization: each keeps its own order at its endpoint. */
const STREAMS_PER_ORG = 4;
/** One request in this many has its signature verified (verifying all would load the generator's core). */
const VERIFY_EVERY = 50;

export async function runWebhooksBench(options: WebhooksBenchOptions = {}): Promise<WebhooksBenchResult> {
  const rate = options.rate ?? 500;
  const durationMs = options.durationMs ?? 20_000;
  const endpointCount = options.endpoints ?? 50;
  const workers = options.workers ?? Number(process.env.BENCH_WEBHOOKS_WORKERS ?? 64);
  const log = options.log ?? (() => undefined);
  const logger = pino({ level: 'warn' });
  const db = await createBenchDatabase();
  const sql = createPgSqlDatabase({ connectionString: db.url, max: 20 });
  const engineSql = createPgSqlDatabase({ connectionString: db.url, max: 20 });
  const namespace = `bench-${randomBytes(4).toString('hex')}`;
  const bus = await NatsBus.create({ servers: NATS_URL, name: 'bench-webhooks', namespace, timeoutMs: 5_000 });
  const servers: Server[] = [];
  let relay: Relay | undefined;
  let webhooks: Webhooks | undefined;
  let engineStore: PostgresEventStore | undefined;
  try {
    await migratePublicSchema(sql);
    const store = await PostgresEventStore.create(sql);
    await bus.ensureStream();
    relay = await Relay.create({ store, bus, sql, logger, name: 'bench' });
    relay.start();

    const appendedAt = new Map<string, number>();
    /** Wall-clock instants of the same, to compare with the engine's timestamps in the tables. */
    const appendedWall = new Map<string, number>();
    const deliveryLag: number[] = [];
    const received = new Map<string, number>();
    let duplicates = 0;
    let signaturesChecked = 0;
    let signaturesOk = true;
    const secrets = new Map<number, Webhook>();
    const receive = (endpoint: number) =>
      createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const now = performance.now();
          const id = String(req.headers['webhook-id']);
          const count = received.get(id) ?? 0;
          received.set(id, count + 1);
          if (count > 0) duplicates++;
          else {
            const at = appendedAt.get(id);
            if (at !== undefined) deliveryLag.push(now - at);
          }
          if (received.size % VERIFY_EVERY === 0 && count === 0) {
            signaturesChecked++;
            try {
              secrets.get(endpoint)!.verify(Buffer.concat(chunks).toString('utf8'), {
                'webhook-id': id,
                'webhook-timestamp': String(req.headers['webhook-timestamp']),
                'webhook-signature': String(req.headers['webhook-signature']),
              });
            } catch (err) {
              signaturesOk = false;
              logger.error({ err, id }, 'a webhook signature did not verify');
            }
          }
          res.writeHead(204);
          res.end();
        });
      });

    const orgs: { orgId: string; sessions: string[] }[] = [];
    for (let n = 0; n < endpointCount; n++) {
      const server = receive(n);
      server.keepAliveTimeout = 60_000;
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const orgId = randomUUID();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const { secret } = await createEndpoint(store, sql, orgId, url, ['participant.joined']);
      secrets.set(n, new Webhook(secret));
      orgs.push({ orgId, sessions: Array.from({ length: STREAMS_PER_ORG }, () => randomUUID()) });
    }
    engineStore = await PostgresEventStore.create(engineSql);
    webhooks = await Webhooks.create({
      store: engineStore,
      bus,
      sql: engineSql,
      logger,
      publicUrl: 'https://quorum.bench.test',
      policy: { allowHttp: true, allowLoopback: true },
      concurrency: workers,
    });
    await webhooks.start();
    // Every endpoint folded before the clock starts.
    for (let folded = 0; folded < endpointCount;) {
      const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_endpoint_targets`);
      folded = Number(rows[0]!.n);
      if (folded < endpointCount) await sleep(100);
    }

    const busLag: number[] = [];
    const baseline = await bus.consume({
      durableName: 'bench-baseline',
      filterSubjects: ['evt.*.session.>'],
      batchHandler: async (messages) => {
        const now = performance.now();
        for (const m of messages) {
          const at = appendedAt.get(m.id);
          if (at !== undefined) busLag.push(now - at);
        }
      },
    });

    const ids: string[] = [];
    let sent = 0;
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const inFlight = new Set<Promise<void>>();
    for (let due = started; due < started + durationMs; due += 1000 / rate) {
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const org = orgs[sent % endpointCount]!;
      const sessionId = org.sessions[Math.floor(sent / endpointCount) % STREAMS_PER_ORG]!;
      const id = randomUUID();
      ids.push(id);
      const p = store
        .appendToStream(streamIds.session(sessionId), [
          {
            id,
            type: 'participant.joined',
            version: 1,
            data: {
              participantId: randomUUID(),
              displayName: String(sent),
              isHost: false,
              at: new Date().toISOString(),
            },
            metadata: {
              orgId: org.orgId,
              actor: { kind: 'system', id: 'bench' },
              correlationId: id,
              causationId: null,
            },
          },
        ])
        .then(() => {
          appendedAt.set(id, performance.now());
          appendedWall.set(id, Date.now());
        });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      sent++;
    }
    await Promise.all(inFlight);
    const elapsed = performance.now() - started;
    const drainUntil = performance.now() + 30_000;
    const waiting = () => ids.filter((id) => !received.has(id)).length;
    while (waiting() > 0 && performance.now() < drainUntil) await sleep(100);
    const cpu = process.cpuUsage(cpuStart);
    const missing = waiting();
    log(`    sent ${sent} events in ${(elapsed / 1000).toFixed(1)} s; ${missing} not received after the drain`);
    await baseline.close();
    const { rows: waits } = await sql.query<{ ms: number; event_id: string; created: Date }>(
      `SELECT extract(epoch FROM (a.at - d.created_at)) * 1000 AS ms, d.event_id, d.created_at AS created
       FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE a.n = 1`,
    );
    const fanOutLag = waits.flatMap((w) => {
      const at = appendedWall.get(w.event_id);
      return at === undefined ? [] : [new Date(w.created).getTime() - at];
    });

    const lag = summarize(deliveryLag);
    const achievedRate = (sent / elapsed) * 1000;
    return {
      targetRate: rate,
      durationMs,
      endpoints: endpointCount,
      workers,
      events: sent,
      achievedRate,
      deliveryLag: lag,
      busLag: summarize(busLag),
      fanOutLag: summarize(fanOutLag),
      queueWait: summarize(waits.map((w) => Number(w.ms))),
      missing,
      duplicates,
      signaturesChecked,
      signaturesOk,
      cpuPercent: ((cpu.user + cpu.system) / 1000 / (performance.now() - started)) * 100,
      target: { maxP99Ms: 1_000, pass: lag.p99 < 1_000 && missing === 0, rateKept: achievedRate >= rate * 0.97 },
    };
  } finally {
    await webhooks?.close();
    await relay?.close();
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    await bus.deleteStream().catch(() => undefined);
    await bus.close();
    await engineStore?.close();
    await engineSql.close();
    await sql.close();
    await db.drop();
  }
}

/** The (f) table. */
export function webhooksRows(result: WebhooksBenchResult): Row[] {
  return [
    [
      'events sent',
      `${int(result.events)} to ${result.endpoints} endpoints, one per organization (${result.achievedRate.toFixed(1)}/s of ${result.targetRate}/s)`,
    ],
    [
      'event → received p50 / p99 / max',
      `${ms(result.deliveryLag.p50)} / ${ms(result.deliveryLag.p99)} / ${ms(result.deliveryLag.max)}  (${int(result.deliveryLag.count)} events)`,
    ],
    [
      'baseline: bus delivery p50 / p99 / max',
      `${ms(result.busLag.p50)} / ${ms(result.busLag.p99)} / ${ms(result.busLag.max)}  (${int(result.busLag.count)} events)`,
    ],
    [
      'of which: append → fanned out p50 / p99',
      `${ms(result.fanOutLag.p50)} / ${ms(result.fanOutLag.p99)}  (the bus, then the fan-out's transaction)`,
    ],
    [
      'of which: fanned out → first attempt p50 / p99',
      `${ms(result.queueWait.p50)} / ${ms(result.queueWait.p99)}  (waiting for a worker: claims, order per stream)`,
    ],
    [
      'received / bus delivery, p50 / p99',
      `${(result.deliveryLag.p50 / result.busLag.p50).toFixed(1)}× / ${(result.deliveryLag.p99 / result.busLag.p99).toFixed(1)}×`,
    ],
    ['events not received after the drain', String(result.missing)],
    ['duplicate requests (same webhook-id)', String(result.duplicates)],
    [
      'signatures verified by standardwebhooks',
      `${result.signaturesChecked} sampled, ${result.signaturesOk ? 'all valid' : 'SOME INVALID'}`,
    ],
    [
      'CPU of this process (generator, relay, engine, receivers)',
      `${result.cpuPercent.toFixed(0)}% of one core (${result.workers} attempts in flight at most)`,
    ],
  ];
}

/** The (f) targets. */
export function webhooksTargets(result: WebhooksBenchResult): Row[] {
  return [
    [
      `(f) webhook event → received p99 < 1 s at ${result.targetRate} events/s over ${result.endpoints} endpoints, none missing`,
      `${ms(result.deliveryLag.p99)} (bus ${ms(result.busLag.p99)}), ${result.missing} missing`,
      verdict(result.target.pass && result.signaturesOk),
    ],
    ['(f) generator kept the rate (≥ 97%)', `${result.achievedRate.toFixed(1)}/s`, verdict(result.target.rateKept)],
  ];
}

/** The (f) section of docs/benchmarks.md. */
export function webhooksSection(result: WebhooksBenchResult, table: string): string {
  return `
A fresh database, the PostgreSQL event store, NATS JetStream (a namespace of its own), the relay,
the webhook delivery engine (${result.workers} attempts in flight at most) and ${result.endpoints} receivers on
127.0.0.1 (keep-alive HTTP servers answering 204) in the benchmark's process, one endpoint per
organization. Open loop: ${result.targetRate} public events/s for ${result.durationMs / 1000} s, round-robin over the
organizations (${STREAMS_PER_ORG} session streams each), one append per event. Latency: the append returning → the
webhook's first arrival at its receiver. Baseline, same run: the same append → delivered to a plain
durable consumer of the bus. One request in ${VERIFY_EVERY} is verified with \`standardwebhooks\`.

${table}
`;
}
