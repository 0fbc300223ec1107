/**
 * What the metering consumer's integration tests share: a consumer's test env (a database and a
 * NATS namespace of the file's own, a relay into it: `@quorum/relay/testing`), and meetings
 * written to session streams as the session decider writes them.
 */
import { randomUUID } from 'node:crypto';
import {
  meterSession,
  streamIds,
  type SessionEvent,
  type StoredSessionEvent,
  type UsageInterval,
} from '@quorum/domain';
import type { NewEvent, RecordedEvent } from '@quorum/eventstore';
import type { SqlDatabase } from '@quorum/db';
import type { PostgresEventStore } from '@quorum/eventstore/postgres';
import { openConsumerTestEnv, type ConsumerTestEnv } from '@quorum/relay/testing';

export { logger, TEST_DATABASE_URL, TEST_NATS_URL, waitFor } from '@quorum/relay/testing';
export type MeteringTestEnv = ConsumerTestEnv;

/** A database and a NATS namespace of this file's own: its metering timers meter only its sessions. */
export function openMeteringTestEnv(label: string): Promise<MeteringTestEnv> {
  return openConsumerTestEnv(label, 'metering');
}

/** Appends an organization on `plan`, as the organization decider writes it. */
export async function createOrganization(store: PostgresEventStore, orgId: string, plan = 'pro'): Promise<void> {
  await store.appendToStream(streamIds.organization(orgId), [
    {
      id: randomUUID(),
      type: 'organization.created',
      version: 1,
      data: {
        orgId,
        name: 'Metered',
        plan,
        ownerUserId: randomUUID(),
        ownerEmail: 'owner@example.com',
        trialEndsAt: '2030-01-01T00:00:00.000Z',
      },
      metadata: meta(orgId),
    },
  ]);
}

function meta(orgId: string) {
  return {
    orgId,
    actor: { kind: 'system' as const, id: 'metering-test' },
    correlationId: randomUUID(),
    causationId: null,
  };
}

/** One step of a scripted meeting: who does what, this many seconds after its start. */
export type Step =
  | { at: number; join: string }
  | { at: number; leave: string }
  | { at: number; reconnect: string; node: string }
  | { at: number; end: true };

/**
 * Appends a meeting (scheduled, then the steps in order) to a session stream: one append per
 * event, as the gateway writes them, or all in one (`oneAppend`) for a meeting long past, whose
 * leaves appended one by one now would be later than a leave may be (`MAX_LEAVE_BACKDATE_MS`).
 */
export async function appendMeeting(
  store: PostgresEventStore,
  orgId: string,
  sessionId: string,
  start: Date,
  steps: readonly Step[],
  { oneAppend = false }: { oneAppend?: boolean } = {},
): Promise<void> {
  const host = randomUUID();
  const stream = streamIds.session(sessionId);
  const iso = (seconds: number) => new Date(start.getTime() + seconds * 1000).toISOString();
  const event = (e: SessionEvent): NewEvent => ({
    id: randomUUID(),
    type: e.type,
    version: 1,
    data: e.data,
    metadata: meta(orgId),
  });
  const events: NewEvent[] = [
    event({
      type: 'session.scheduled',
      data: { sessionId, orgId, title: 'Metered meeting', hostUserId: host, scheduledFor: null },
    }),
  ];
  for (const step of steps) {
    let e: SessionEvent;
    if ('join' in step) {
      e = {
        type: 'participant.joined',
        data: { participantId: step.join, displayName: 'p', isHost: false, at: iso(step.at) },
      };
    } else if ('leave' in step) {
      e = { type: 'participant.left', data: { participantId: step.leave, reason: 'left', at: iso(step.at) } };
    } else if ('reconnect' in step) {
      e = {
        type: 'participant.reconnected',
        data: { participantId: step.reconnect, node: step.node, at: iso(step.at) },
      };
    } else {
      e = { type: 'session.ended', data: { reason: 'ended_by_host', by: host, at: iso(step.at) } };
    }
    events.push(event(e));
  }
  if (oneAppend) {
    await store.appendToStream(stream, events);
    return;
  }
  for (const e of events) await store.appendToStream(stream, [e]);
}

/** What the session stream gives, metered in one pass with everything settled: the expectation. */
export async function expectedUsage(
  store: PostgresEventStore,
  sessionId: string,
  settledUntil: Date,
): Promise<UsageInterval[]> {
  const recorded = await store.readStream(streamIds.session(sessionId));
  const events = recorded.map((e) => ({ id: e.id, type: e.type, data: e.data }) as StoredSessionEvent);
  return meterSession(events, settledUntil);
}

/** Seconds per meter in `metering_totals` for an organization, as `{ meter, seconds }` rows. */
export async function totalsOf(sql: SqlDatabase, orgId: string): Promise<{ meter: string; seconds: string }[]> {
  const { rows } = await sql.query<{ meter: string; seconds: string }>(
    'SELECT meter, seconds FROM metering_totals WHERE org_id = $1 ORDER BY meter',
    [orgId],
  );
  return rows;
}

/** Seconds of one meter over some intervals. */
export function secondsOf(intervals: readonly UsageInterval[], meter: UsageInterval['meter']): number {
  return intervals.filter((i) => i.meter === meter).reduce((sum, i) => sum + i.seconds, 0);
}

/** The `metering_totals` rows these intervals give. */
export function totalsFrom(intervals: readonly UsageInterval[]): { meter: string; seconds: string }[] {
  return (['meeting_minutes', 'participant_minutes'] as const).map((meter) => ({
    meter,
    seconds: String(secondsOf(intervals, meter)),
  }));
}

/** Every event of an organization's usage streams for these periods. */
export async function usageEvents(
  store: PostgresEventStore,
  orgId: string,
  periods: Iterable<string>,
): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (const period of new Set(periods)) all.push(...(await store.readStream(streamIds.usage(orgId, period))));
  return all;
}
