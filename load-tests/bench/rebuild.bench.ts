/**
 * (c) Rebuild throughput of the `core` projection.
 *
 * A fresh database gets `orgs` organizations × 100 events (organization.created, the owner's
 * member.joined, 30 × member.invited + member.joined, seats.purchased, 30 × seat.assigned,
 * 7 × seats.purchased / seats.released), appended through the PostgreSQL event store in a few
 * chunks per stream by 16 concurrent appenders, so organizations interleave in `$all`. Every
 * payload is validated with the domain's own schemas first. Then `rebuildProjection` builds a
 * new read-model version from position 0 (`partitions` transactions per batch, by default
 * `rebuildProjection`'s) and its reported events/s is the figure.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import {
  createPgSqlDatabase,
  readModelSchema,
  type SqlConnection,
  type SqlDatabase,
  type SqlExecutor,
} from '@quorum/db';
import { parseEvent, streamIds, type DomainEventType } from '@quorum/domain';
import type { EventMetadata, NewEvent } from '@quorum/eventstore';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import {
  DEFAULT_REBUILD_BATCH_SIZE,
  DEFAULT_REBUILD_PARTITIONS,
  rebuildProjection,
  type RebuildResult,
} from '@quorum/projector/rebuild';
import { createBenchDatabase } from './env';

export interface RebuildBenchResult {
  events: number;
  orgs: number;
  appendMs: number;
  appendEventsPerSec: number;
  batchSize: number;
  /** Transactions writing each batch at once (`rebuildProjection`'s `partitions`). */
  partitions: number;
  rebuild: RebuildResult;
  /** Client-side time per kind of SQL statement during the rebuild (round trip included). */
  profile: {
    statements: number;
    statementsPerEvent: number;
    sqlMs: number;
    top: Array<{ statement: string; count: number; totalMs: number; avgMs: number }>;
  };
  check: {
    eventLog: number;
    members: number;
    assignments: number;
    seatsPurchased: number;
    deadLetters: number;
    ok: boolean;
  };
  target: { minEventsPerSec: number; pass: boolean };
}

export interface RebuildBenchOptions {
  orgs?: number;
  batchSize?: number;
  partitions?: number;
  log?: (line: string) => void;
}

const MEMBERS_PER_ORG = 30;
const EXTRA_SEAT_CHANGES = 7; // 3 + 3 × 30 + 7 = 100 events per organization
const APPENDERS = 16;

interface Chunk {
  streamId: string;
  events: NewEvent[];
}

function orgHistory(n: number): Chunk[] {
  const orgId = randomUUID();
  const ownerId = randomUUID();
  const ownerEmail = `owner${n}@bench.example.com`;
  const meta = (): EventMetadata => ({
    orgId,
    actor: { kind: 'user', id: ownerId },
    correlationId: randomUUID(),
    causationId: null,
  });
  const ev = <T extends DomainEventType>(type: T, data: unknown): NewEvent => ({
    id: randomUUID(),
    type,
    version: 1,
    data,
    metadata: meta(),
  });

  const org: NewEvent[] = [
    ev('organization.created', {
      orgId,
      name: `Bench Org ${n}`,
      plan: 'business',
      ownerUserId: ownerId,
      ownerEmail,
      trialEndsAt: '2030-01-01T00:00:00.000Z',
    }),
    ev('member.joined', { userId: ownerId, email: ownerEmail, role: 'owner', invitationId: null }),
  ];
  let total = 50;
  const seats: NewEvent[] = [ev('seats.purchased', { quantity: 50, total })];
  for (let i = 0; i < MEMBERS_PER_ORG; i++) {
    const userId = randomUUID();
    const invitationId = randomUUID();
    const email = `m${i}.o${n}@bench.example.com`;
    org.push(
      ev('member.invited', {
        invitationId,
        email,
        role: i % 5 === 0 ? 'admin' : 'member',
        invitedBy: ownerId,
        expiresAt: '2030-01-01T00:00:00.000Z',
      }),
      ev('member.joined', { userId, email, role: i % 5 === 0 ? 'admin' : 'member', invitationId }),
    );
    seats.push(ev('seat.assigned', { userId }));
  }
  for (let i = 0; i < EXTRA_SEAT_CHANGES; i++) {
    total += i % 2 === 0 ? 5 : -2;
    seats.push(
      i % 2 === 0 ? ev('seats.purchased', { quantity: 5, total }) : ev('seats.released', { quantity: 2, total }),
    );
  }
  const half = (a: NewEvent[]) => Math.ceil(a.length / 2);
  const o = streamIds.organization(orgId);
  const s = streamIds.seats(orgId);
  return [
    { streamId: o, events: org.slice(0, half(org)) },
    { streamId: s, events: seats.slice(0, half(seats)) },
    { streamId: o, events: org.slice(half(org)) },
    { streamId: s, events: seats.slice(half(seats)) },
  ];
}

/** Wraps a database so every statement's round trip is timed, keyed by its first words. */
function profiled(db: SqlDatabase) {
  const stats = new Map<string, { count: number; totalMs: number }>();
  const key = (text: string) => {
    const t = text.replace(/\s+/g, ' ').trim().replace(/"/g, '');
    const m = /^(insert into \S+|update \S+|delete from \S+|select .*? from \S+|\S+)/i.exec(t);
    return (m?.[1] ?? t).slice(0, 80);
  };
  const time = (q: SqlExecutor['query']): SqlExecutor['query'] =>
    (async (text: string, params?: readonly unknown[]) => {
      const t0 = performance.now();
      try {
        return await q(text, params);
      } finally {
        const k = key(text);
        const s = stats.get(k) ?? { count: 0, totalMs: 0 };
        s.count++;
        s.totalMs += performance.now() - t0;
        stats.set(k, s);
      }
    }) as SqlExecutor['query'];
  const wrapped: SqlDatabase = {
    kind: db.kind,
    query: time((text, params) => db.query(text, params)),
    acquire: async () => {
      const c = await db.acquire();
      const conn: SqlConnection = { query: time((text, params) => c.query(text, params)), release: () => c.release() };
      return conn;
    },
    transaction: (fn) => db.transaction((tx) => fn({ query: time((text, params) => tx.query(text, params)) })),
    exec: (text) => db.exec(text),
    warm: (n) => db.warm(n),
    close: () => db.close(),
  };
  return { db: wrapped, stats };
}

export async function runRebuildBench(options: RebuildBenchOptions = {}): Promise<RebuildBenchResult> {
  const orgs = options.orgs ?? 1_000;
  const batchSize = options.batchSize ?? DEFAULT_REBUILD_BATCH_SIZE;
  const partitions = options.partitions ?? DEFAULT_REBUILD_PARTITIONS;
  const log = options.log ?? (() => {});
  const database = await createBenchDatabase();
  let sql: SqlDatabase | undefined;
  let store: PostgresEventStore | undefined;
  try {
    sql = createPgSqlDatabase({ connectionString: database.url, max: 20, applicationName: 'quorum-bench' });
    store = await PostgresEventStore.create(sql);
    const es = store;

    // Validate one organization's history with the domain schemas before appending any.
    for (const chunk of orgHistory(-1)) {
      for (const e of chunk.events) parseEvent({ type: e.type as DomainEventType, version: e.version, data: e.data });
    }

    const appendStarted = performance.now();
    let next = 0;
    let events = 0;
    await Promise.all(
      Array.from({ length: APPENDERS }, async () => {
        for (let n = next++; n < orgs; n = next++) {
          const revisions = new Map<string, bigint>();
          for (const chunk of orgHistory(n)) {
            const expected = revisions.get(chunk.streamId);
            const r = await es.appendToStream(chunk.streamId, chunk.events, {
              expectedRevision: expected ?? 'no_stream',
            });
            revisions.set(chunk.streamId, r.nextExpectedRevision);
            events += chunk.events.length;
          }
        }
      }),
    );
    const appendMs = performance.now() - appendStarted;
    log(
      `  appended ${events} events in ${(appendMs / 1000).toFixed(1)} s; rebuilding (batchSize ${batchSize}, partitions ${partitions})`,
    );

    const prof = profiled(sql);
    const rebuild = await rebuildProjection({
      sql: prof.db,
      store,
      logger: pino({ level: 'error' }),
      batchSize,
      partitions,
    });
    const entries = [...prof.stats.entries()].map(([statement, s]) => ({
      statement,
      count: s.count,
      totalMs: s.totalMs,
      avgMs: s.totalMs / s.count,
    }));
    const statements = entries.reduce((n, e) => n + e.count, 0);
    const profile = {
      statements,
      statementsPerEvent: statements / Math.max(1, rebuild.events),
      sqlMs: entries.reduce((n, e) => n + e.totalMs, 0),
      top: entries.sort((a, b) => b.totalMs - a.totalMs).slice(0, 8),
    };

    const schema = readModelSchema(rebuild.version);
    const count = async (q: string) => Number((await sql!.query<{ n: string }>(q)).rows[0]?.n ?? 0);
    const check = {
      eventLog: await count(`SELECT count(*) AS n FROM ${schema}.event_log`),
      members: await count(`SELECT count(*) AS n FROM ${schema}.members`),
      assignments: await count(`SELECT count(*) AS n FROM ${schema}.seat_assignments`),
      seatsPurchased: await count(`SELECT coalesce(sum(purchased), 0) AS n FROM ${schema}.seats`),
      deadLetters: rebuild.deadLetters,
      ok: false,
    };
    const expectedPurchased =
      orgs * (50 + Math.ceil(EXTRA_SEAT_CHANGES / 2) * 5 - Math.floor(EXTRA_SEAT_CHANGES / 2) * 2);
    check.ok =
      check.eventLog === events &&
      check.members === orgs * (MEMBERS_PER_ORG + 1) &&
      check.assignments === orgs * MEMBERS_PER_ORG &&
      check.seatsPurchased === expectedPurchased &&
      check.deadLetters === 0;
    return {
      events,
      orgs,
      appendMs,
      appendEventsPerSec: (events / appendMs) * 1_000,
      batchSize,
      partitions,
      rebuild,
      profile,
      check,
      target: { minEventsPerSec: 10_000, pass: rebuild.eventsPerSecond >= 10_000 && check.ok },
    };
  } finally {
    await store?.close();
    await sql?.close();
    await database.drop();
  }
}
