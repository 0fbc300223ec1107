/**
 * (d) Metering under a steady stream of session events.
 *
 * A fresh database, the PostgreSQL event store, a NATS namespace of its own, the relay and the
 * metering consumer (`@quorum/metering/metering`, as the all-in-one runs it) in this process.
 * Open loop: `rate` session events per second for `durationMs`, over `meetings` meetings that
 * (spread over 50 organizations) each run scheduled → four joins → four leaves → ended and start
 * again, one append per event
 * as the gateway writes them, with the real clock's instants.
 *
 * Usage lag: from a leave's append returning to the `usage.recorded` it caused (its causation
 * id) being readable in the store. Baseline in the same run: from the same append to the bus
 * handing the event to a plain durable consumer on the same subjects (what every consumer of
 * the bus waits for anyway). Correctness: the participant seconds metering counted equal what
 * `meterSession` gives over every session stream afterwards.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { NatsBus } from '@quorum/bus/nats';
import { createPgSqlDatabase, migratePublicSchema } from '@quorum/db';
import { meterSession, streamIds, type SessionEvent, type StoredSessionEvent } from '@quorum/domain';
import type { NewEvent } from '@quorum/eventstore';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { Metering } from '@quorum/metering/metering';
import { Relay } from '@quorum/relay/relay';
import { pino } from 'pino';
import { createBenchDatabase, NATS_URL } from './env';
import { sleep, summarize, type Summary } from './stats';

export interface MeteringBenchResult {
  targetRate: number;
  durationMs: number;
  meetings: number;
  sessionEvents: number;
  achievedRate: number;
  /** Leave append → the usage event it caused readable in the store. */
  usageLag: Summary;
  /** Same append → delivered to a plain bus consumer: the baseline. */
  busLag: Summary;
  usageEvents: number;
  /** Leaves whose usage never appeared within the drain time. */
  missing: number;
  cpuPercent: number;
  check: { expectedParticipantSeconds: number; meteredParticipantSeconds: number; ok: boolean };
  target: { maxP99Ms: number; pass: boolean; rateKept: boolean };
}

export interface MeteringBenchOptions {
  rate?: number;
  durationMs?: number;
  meetings?: number;
  log?: (line: string) => void;
}

const PEOPLE = 4;
const ORGS = 50;

export async function runMeteringBench(options: MeteringBenchOptions = {}): Promise<MeteringBenchResult> {
  const rate = options.rate ?? 500;
  const durationMs = options.durationMs ?? 20_000;
  const meetings = options.meetings ?? 500;
  const log = options.log ?? (() => undefined);
  const logger = pino({ level: 'warn' });
  const db = await createBenchDatabase();
  const sql = createPgSqlDatabase({ connectionString: db.url, max: 20 });
  const namespace = `bench-${randomBytes(4).toString('hex')}`;
  const bus = await NatsBus.create({ servers: NATS_URL, name: 'bench-metering', namespace, timeoutMs: 5_000 });
  let relay: Relay | undefined;
  let metering: Metering | undefined;
  try {
    await migratePublicSchema(sql);
    const store = await PostgresEventStore.create(sql);
    await bus.ensureStream();
    relay = await Relay.create({ store, bus, sql, logger, name: 'bench' });
    relay.start();
    metering = await Metering.create({ store, bus, sql, logger, tickMs: 1_000 });
    await metering.start();

    const appendedAt = new Map<string, number>();
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
    const usageLag: number[] = [];
    const leaves = new Set<string>();
    const caused = new Set<string>();
    let usageEvents = 0;
    const subscription = store.subscribeToAll({ fromPosition: await store.headPosition(), types: ['usage.recorded'] });
    const watching = (async () => {
      for await (const e of subscription) {
        usageEvents++;
        const cause = e.metadata.causationId;
        const at = cause === null ? undefined : appendedAt.get(cause);
        if (cause !== null && at !== undefined && leaves.has(cause) && !caused.has(cause)) {
          caused.add(cause);
          usageLag.push(performance.now() - at);
        }
      }
    })();

    // Meetings spread over organizations, as on a shared deployment; each has its usage stream.
    const orgIds = Array.from({ length: ORGS }, () => randomUUID());
    const meta = (orgId: string) => ({
      orgId,
      actor: { kind: 'system' as const, id: 'bench' },
      correlationId: randomUUID(),
      causationId: null,
    });
    interface Meeting {
      orgId: string;
      sessionId: string;
      people: string[];
      step: number;
      busy: boolean;
    }
    const sessionIds: string[] = [];
    const fresh = (): Meeting => {
      const sessionId = randomUUID();
      sessionIds.push(sessionId);
      return {
        orgId: orgIds[sessionIds.length % ORGS]!,
        sessionId,
        people: Array.from({ length: PEOPLE }, () => randomUUID()),
        step: 0,
        busy: false,
      };
    };
    const all = Array.from({ length: meetings }, fresh);
    const nextEvent = (m: Meeting): SessionEvent => {
      const at = new Date().toISOString();
      const s = m.step;
      if (s === 0) {
        return {
          type: 'session.scheduled',
          data: {
            sessionId: m.sessionId,
            orgId: m.orgId,
            title: 'Bench',
            hostUserId: m.people[0]!,
            scheduledFor: null,
          },
        };
      }
      if (s <= PEOPLE) {
        return {
          type: 'participant.joined',
          data: { participantId: m.people[s - 1]!, displayName: 'p', isHost: s === 1, at },
        };
      }
      if (s <= 2 * PEOPLE)
        return { type: 'participant.left', data: { participantId: m.people[s - PEOPLE - 1]!, reason: 'left', at } };
      return { type: 'session.ended', data: { reason: 'ended_by_host', by: m.people[0]!, at } };
    };

    let sent = 0;
    let skipped = 0;
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const inFlight = new Set<Promise<void>>();
    let index = 0;
    for (let due = started; due < started + durationMs; due += 1000 / rate) {
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      // Round-robin over the meetings; one whose previous append has not returned waits its turn.
      let m = all[index % meetings]!;
      for (let tries = 0; m.busy && tries < meetings; tries++) m = all[++index % meetings]!;
      index++;
      if (m.busy) {
        skipped++;
        continue;
      }
      const event = nextEvent(m);
      const id = randomUUID();
      const newEvent: NewEvent = { id, type: event.type, version: 1, data: event.data, metadata: meta(m.orgId) };
      m.busy = true;
      const p = store.appendToStream(streamIds.session(m.sessionId), [newEvent]).then(() => {
        appendedAt.set(id, performance.now());
        if (event.type === 'participant.left') leaves.add(id);
        m.busy = false;
        m.step = m.step === 2 * PEOPLE + 1 ? 0 : m.step + 1;
        if (m.step === 0) Object.assign(m, fresh());
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      sent++;
    }
    await Promise.all(inFlight);
    const elapsed = performance.now() - started;
    const cpu = process.cpuUsage(cpuStart);
    log(`    sent ${sent} session events in ${(elapsed / 1000).toFixed(1)} s (${skipped} ticks skipped: meeting busy)`);

    // What the streams give: each leave that closed a stint of a whole second or more ends one
    // participant interval, caused by it.
    const expectedCauses = new Set<string>();
    let expectedParticipantSeconds = 0;
    for (const sessionId of sessionIds) {
      const events = (await store.readStream(streamIds.session(sessionId))).map(
        (e) => ({ id: e.id, type: e.type, data: e.data }) as StoredSessionEvent,
      );
      for (const i of meterSession(events, new Date(0))) {
        if (i.meter !== 'participant_minutes') continue;
        expectedParticipantSeconds += i.seconds;
        const last = i.sources[i.sources.length - 1]!;
        if (leaves.has(last)) expectedCauses.add(last);
      }
    }
    const drainUntil = performance.now() + 30_000;
    const waiting = () => [...expectedCauses].filter((id) => !caused.has(id)).length;
    while (waiting() > 0 && performance.now() < drainUntil) await sleep(100);
    const missing = waiting();
    const { rows } = await sql.query<{ seconds: string }>(
      `SELECT coalesce(sum(seconds), 0)::text AS seconds FROM metering_totals WHERE org_id = ANY($1::uuid[]) AND meter = 'participant_minutes'`,
      [orgIds],
    );
    const meteredParticipantSeconds = Number(rows[0]?.seconds ?? 0);
    await baseline.close();
    await subscription.close();
    await watching;

    const usage = summarize(usageLag);
    const achievedRate = (sent / elapsed) * 1000;
    return {
      targetRate: rate,
      durationMs,
      meetings,
      sessionEvents: sent,
      achievedRate,
      usageLag: usage,
      busLag: summarize(busLag),
      usageEvents,
      missing,
      cpuPercent: ((cpu.user + cpu.system) / 1000 / elapsed) * 100,
      check: {
        expectedParticipantSeconds,
        meteredParticipantSeconds,
        ok: expectedParticipantSeconds === meteredParticipantSeconds,
      },
      target: {
        maxP99Ms: 1_000,
        pass: usage.p99 < 1_000 && missing === 0,
        rateKept: achievedRate >= rate * 0.97,
      },
    };
  } finally {
    await metering?.close();
    await relay?.close();
    await bus.deleteStream().catch(() => undefined);
    await bus.close();
    await sql.close();
    await db.drop();
  }
}
