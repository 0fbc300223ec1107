/**
 * Runs a decider against the event store: read the stream, fold it, decide, append with
 * optimistic concurrency on the revision read. A conflict (another writer got there first)
 * is retried a bounded number of times with fresh state, then answered with CONFLICT.
 *
 * With an `Idempotency-Key`, event ids are derived from the key, so a retried command whose
 * first attempt was stored appends nothing and answers the stored position.
 */
import { AppError, foldEvents, parseEvent, type Decider, type DomainEvent, currentVersionOf } from '@quorum/domain';
import {
  WrongExpectedRevisionError,
  type Actor,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type RecordedEvent,
  type StreamGuard,
} from '@quorum/eventstore';
import { SpanKind, currentTraceparent, trace, withSpan } from '@quorum/telemetry';
import type { IdSource } from './ids';

const tracer = trace.getTracer('quorum.gateway');

export interface CommandMeta {
  orgId: string;
  actor: Actor;
  correlationId: string;
  traceparent?: string;
  ids: IdSource;
}

export interface Loaded<State> {
  state: State;
  expected: ExpectedRevision;
  /** The stream's events when read whole; only those after the cached revision otherwise. */
  events: RecordedEvent[];
}

interface CachedState {
  decider: unknown;
  state: unknown;
  revision: bigint;
}

export interface AppendOutcome {
  position: bigint;
  /** True when the command had already been applied (idempotent retry). */
  replayed: boolean;
}

/**
 * Attempts before a conflict is answered CONFLICT. Each lost race means another writer's
 * append landed, so a burst of n writers on one stream needs at most n attempts; 10 covers a
 * busy organization without letting a hot stream spin forever.
 */
export const MAX_ATTEMPTS = 10;

/** A short random pause before retrying a lost race, so the losers do not collide again. */
export function conflictBackoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 5 * 2 ** attempt)));
}

/**
 * Runs tasks one at a time per key. Commands on one stream in this process queue here
 * instead of racing to the event store: a race costs a rejected append and a retry, and
 * under load the retries pile up. Optimistic concurrency still decides between processes.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    // A fixed order over several keys, so two tasks can never wait on each other.
    const sorted = [...new Set(keys)].sort();
    const releases: Array<() => void> = [];
    for (const key of sorted) {
      const previous = this.tails.get(key) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((resolve) => (release = resolve));
      const tail = previous.then(() => mine);
      this.tails.set(key, tail);
      releases.push(() => {
        release();
        if (this.tails.get(key) === tail) this.tails.delete(key);
      });
      await previous;
    }
    try {
      return await task();
    } finally {
      for (const release of releases) release();
    }
  }
}

export class CommandHandler {
  /** Serializes this process's commands per stream; see {@link KeyedMutex}. */
  readonly streams = new KeyedMutex();

  /**
   * Decided state per stream at a revision, least recently used last. Loading reads only the
   * events after that revision, so a command costs the same on a long stream as on a short
   * one. Another process appending meanwhile is caught by that read, and a write in between
   * by the append's expected revision; the cache never decides anything on its own.
   */
  private readonly cache = new Map<string, CachedState>();

  constructor(
    private readonly store: EventStore,
    private readonly options: { cacheSize?: number } = {},
  ) {}

  /** Loads a stream's state; `full` reads it whole (to find an idempotent retry's events). */
  async load<C, E extends DomainEvent, S>(
    decider: Decider<C, E, S>,
    streamId: string,
    options: { full?: boolean } = {},
  ): Promise<Loaded<S>> {
    const cached = options.full ? undefined : this.cache.get(streamId);
    const from = cached && cached.decider === decider ? cached : undefined;
    const events = await this.store.readStream(streamId, from ? { fromRevision: from.revision + 1n } : {});
    const state = foldEvents(
      decider,
      events.map((e) => parseEvent({ type: e.type, version: e.version, data: e.data }) as E),
      from ? (from.state as S) : decider.initialState,
    );
    const last = events.at(-1);
    const revision = last ? last.revision : from?.revision;
    if (revision !== undefined) this.remember(streamId, decider, state, revision);
    return { state, expected: revision ?? 'no_stream', events };
  }

  private remember(streamId: string, decider: unknown, state: unknown, revision: bigint): void {
    this.cache.delete(streamId);
    this.cache.set(streamId, { decider, state, revision });
    const max = this.options.cacheSize ?? 10_000;
    if (this.cache.size > max) this.cache.delete(this.cache.keys().next().value!);
  }

  /**
   * Decides against the current state of `streamId` and appends the result.
   * `decide` may throw an `AppError`; it is called again after a conflict.
   */
  async execute<C, E extends DomainEvent, S>(
    decider: Decider<C, E, S>,
    streamId: string,
    meta: CommandMeta,
    decide: (state: S, loaded: Loaded<S>) => E[],
  ): Promise<AppendOutcome> {
    return this.streams.run([streamId], () => this.decideAndAppend(decider, streamId, meta, decide));
  }

  /**
   * Decides on `streamId` with facts from another stream (`context`, e.g. the organization's
   * plan and the caller's role for a seat command) and appends guarded by the revision of the
   * context stream the decision saw: if that stream moved before the append commits, nothing is
   * appended and the command is decided again on fresh state. With both states cached (this
   * process wrote or read them last), the command costs one statement and no reads; as with
   * {@link execute}, only an append is trusted on cached state, and a refusal or no-op is
   * decided again on what the streams hold.
   */
  async executeWithContext<C, E extends DomainEvent, S, CC, CE extends DomainEvent, CS>(
    decider: Decider<C, E, S>,
    streamId: string,
    context: { decider: Decider<CC, CE, CS>; streamId: string },
    meta: CommandMeta,
    decide: (state: S, context: CS) => E[],
  ): Promise<AppendOutcome> {
    return this.streams.run([streamId], async () => {
      const target = this.cached<S>(decider, streamId);
      const facts = this.cached<CS>(context.decider, context.streamId);
      if (!meta.ids.idempotent && target && facts) {
        let events: E[] = [];
        try {
          events = decide(target.state, facts.state);
        } catch {
          // Refused on cached state: decided again below on what the streams hold.
        }
        if (events.length > 0) {
          try {
            const result = await this.appendEvents(streamId, events, target.revision, meta, [
              { streamId: context.streamId, revision: facts.revision },
            ]);
            this.remember(streamId, decider, foldEvents(decider, events, target.state), result.nextExpectedRevision);
            return { position: result.position, replayed: false };
          } catch (err) {
            if (!(err instanceof WrongExpectedRevisionError)) throw err;
          }
        }
      }
      return this.untilNoConflict(async () => {
        const fresh = await this.load(context.decider, context.streamId);
        const loaded = await this.load(decider, streamId, { full: meta.ids.idempotent });
        const replay = this.findReplay(loaded.events, streamId, meta);
        if (replay) return replay;
        const events = decide(loaded.state, fresh.state);
        const guard: StreamGuard = {
          streamId: context.streamId,
          revision: fresh.expected === 'no_stream' ? 'no_stream' : (fresh.expected as bigint),
        };
        const result = await this.appendEvents(streamId, events, loaded.expected, meta, [guard]);
        this.remember(streamId, decider, foldEvents(decider, events, loaded.state), result.nextExpectedRevision);
        return { position: result.position, replayed: false };
      });
    });
  }

  /** The cached state of `streamId` if it was folded by `decider`. */
  private cached<S>(decider: unknown, streamId: string): { state: S; revision: bigint } | undefined {
    const entry = this.cache.get(streamId);
    return entry && entry.decider === decider ? { state: entry.state as S, revision: entry.revision } : undefined;
  }

  private async decideAndAppend<C, E extends DomainEvent, S>(
    decider: Decider<C, E, S>,
    streamId: string,
    meta: CommandMeta,
    decide: (state: S, loaded: Loaded<S>) => E[],
  ): Promise<AppendOutcome> {
    const speculative = await this.decideOnCache(decider, streamId, meta, decide);
    if (speculative) return speculative;
    return this.untilNoConflict(async () => {
      const loaded = await this.load(decider, streamId, { full: meta.ids.idempotent });
      const replay = this.findReplay(loaded.events, streamId, meta);
      if (replay) return replay;
      const events = decide(loaded.state, loaded);
      const result = await this.appendEvents(streamId, events, loaded.expected, meta);
      this.remember(streamId, decider, foldEvents(decider, events, loaded.state), result.nextExpectedRevision);
      return { position: result.position, replayed: false };
    });
  }

  /**
   * Runs `attempt` (read, decide, append) again after each lost race on a revision, with a
   * short random pause, up to {@link MAX_ATTEMPTS} times; then answers CONFLICT naming the
   * stream that kept moving.
   */
  private async untilNoConflict(attempt: () => Promise<AppendOutcome>): Promise<AppendOutcome> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof WrongExpectedRevisionError)) throw err;
        if (n >= MAX_ATTEMPTS) {
          throw new AppError(
            'CONFLICT',
            'command.conflict',
            `Another change to ${err.streamId} happened at the same time; try again.`,
          );
        }
        await conflictBackoff(n);
      }
    }
  }

  /**
   * Decides on the cached state and appends with the cached revision as the expected one,
   * without reading the stream first. In the usual case (this process wrote the stream's last
   * events) that saves a round trip per command. If another process appended meanwhile, the
   * append is refused on its revision and the caller reads and decides again. Only an append
   * is trusted this way: a refusal or a no-op decided on cached state could be wrong, so those
   * answer `undefined` and the caller decides again on what it reads. Commands with an
   * idempotency key always read, to find their own earlier attempt.
   */
  private async decideOnCache<C, E extends DomainEvent, S>(
    decider: Decider<C, E, S>,
    streamId: string,
    meta: CommandMeta,
    decide: (state: S, loaded: Loaded<S>) => E[],
  ): Promise<AppendOutcome | undefined> {
    if (meta.ids.idempotent) return undefined;
    const cached = this.cache.get(streamId);
    if (!cached || cached.decider !== decider) return undefined;
    const state = cached.state as S;
    let events: E[];
    try {
      events = decide(state, { state, expected: cached.revision, events: [] });
    } catch {
      return undefined;
    }
    if (events.length === 0) return undefined;
    try {
      const result = await this.appendEvents(streamId, events, cached.revision, meta);
      this.remember(streamId, decider, foldEvents(decider, events, state), result.nextExpectedRevision);
      return { position: result.position, replayed: false };
    } catch (err) {
      if (err instanceof WrongExpectedRevisionError) return undefined;
      throw err;
    }
  }

  /**
   * Appends already-decided events (the caller did its own load), in a span whose context
   * rides in each event's metadata so the relay and consumers continue this trace.
   */
  async append(
    streamId: string,
    events: readonly DomainEvent[],
    expected: ExpectedRevision,
    meta: CommandMeta,
  ): Promise<bigint> {
    return (await this.appendEvents(streamId, events, expected, meta)).position;
  }

  private async appendEvents(
    streamId: string,
    events: readonly DomainEvent[],
    expected: ExpectedRevision,
    meta: CommandMeta,
    guards?: readonly StreamGuard[],
  ): Promise<AppendResult> {
    return withSpan(
      tracer,
      'eventstore.append',
      {
        kind: SpanKind.CLIENT,
        attributes: { 'quorum.stream': streamId, 'quorum.events': events.length, 'quorum.org': meta.orgId },
      },
      async (span) => {
        const traceparent = currentTraceparent() ?? meta.traceparent;
        const result = await this.store.appendToStream(
          streamId,
          events.map((e, i) => ({
            id: meta.ids.eventId(streamId, i),
            type: e.type,
            version: currentVersionOf(e.type),
            data: e.data,
            metadata: {
              orgId: meta.orgId,
              actor: meta.actor,
              correlationId: meta.correlationId,
              causationId: null,
              ...(traceparent ? { traceparent } : {}),
            },
          })),
          guards ? { expectedRevision: expected, guards } : { expectedRevision: expected },
        );
        span.setAttribute('quorum.position', result.position.toString());
        return result;
      },
    );
  }

  /** With an idempotency key, finds the first event this command would have written. */
  findReplay(events: readonly RecordedEvent[], streamId: string, meta: CommandMeta): AppendOutcome | undefined {
    if (!meta.ids.idempotent) return undefined;
    const firstId = meta.ids.eventId(streamId, 0);
    const first = events.findIndex((e) => e.id === firstId);
    if (first < 0) return undefined;
    // The position of the last event of that append answers the retry.
    let last = events[first]!;
    for (let i = first + 1; i < events.length && events[i]!.id === meta.ids.eventId(streamId, i - first); i++)
      last = events[i]!;
    return { position: last.position, replayed: true };
  }
}
