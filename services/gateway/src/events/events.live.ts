/**
 * `events.live`: an organization's events as the projector applies them, in position order,
 * as a tRPC subscription (SSE over HTTP, or WebSocket). The feed reads the same event log as
 * `events.list`, so it shows exactly what a reload would: from the organization's shared tail
 * (`events.tail.ts`) when its cursor is inside the tail's ring, and page by page from the log
 * while it is behind. Each event is `tracked` by its position, so a client that reconnects
 * resumes after the last event it got.
 */
import { AppError, IdSchema } from '@quorum/domain';
import type { WireEvent } from '@quorum/eventstore';
import { tracked, TRPCError, type TrackedEnvelope } from '@trpc/server';
import { z } from 'zod';
import { authorizeQuery } from '../access';
import { positionSchema, type AuthedContext, type Principal } from '../trpc';
import { listEvents } from './events.handler';
import { TAIL_PAGE } from './events.tail';

const Position = positionSchema();

export const LiveEventsInputSchema = z.object({
  orgId: IdSchema,
  /** Start strictly after this position; absent, start after the newest event now. */
  after: Position.optional(),
  /** Set by tRPC clients when they reconnect: the position of the last event received. */
  lastEventId: Position.optional(),
});
export type LiveEventsInput = z.infer<typeof LiveEventsInputSchema>;

/** How long an idle feed waits before looking at the tail again without being woken. */
const IDLE_RECHECK_MS = 5_000;

/**
 * A live feed: iterated, it yields each event `tracked` by its position (what tRPC clients get);
 * `pages()` yields the same events in the groups they come in, for a transport that writes a
 * group at once (the `/v1` stream). Groups read from the shared tail are the same array for
 * every feed at the same cursor, so work keyed on the group is done once for all of them.
 */
export class LiveFeed implements AsyncIterable<TrackedEnvelope<WireEvent>> {
  constructor(private readonly open: () => AsyncGenerator<readonly WireEvent[]>) {}

  /** The feed's events in groups; one of this or iterating, once. */
  pages(): AsyncGenerator<readonly WireEvent[]> {
    return this.open();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TrackedEnvelope<WireEvent>> {
    for await (const page of this.open()) {
      for (const event of page) yield tracked(event.position, event);
    }
  }
}

/**
 * Checks access and finds the starting position before the stream opens, so a refusal is an
 * ordinary tRPC error (NOT_FOUND for a non-member, FORBIDDEN for a role without `events.list`).
 */
export async function liveEvents(
  ctx: AuthedContext,
  input: LiveEventsInput,
  signal: AbortSignal | undefined,
): Promise<LiveFeed> {
  const newest = await listEvents(ctx, { orgId: input.orgId, order: 'desc', limit: 1 });
  const after = input.lastEventId ?? input.after ?? newest.events[0]?.position;
  return new LiveFeed(() => follow(ctx, input.orgId, after, signal));
}

async function* follow(
  ctx: AuthedContext,
  orgId: string,
  start: string | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<readonly WireEvent[]> {
  const wake = createWake();
  let recheck = false;
  // A revoked key, an ended login, an expired token or a membership change wakes the feed at
  // once (on whichever gateway it happened), and the checks below end it.
  const unwatch = ctx.deps.credentials.watch({ principal: ctx.principal, orgId }, (reason) => {
    if (reason === 'membership_changed') recheck = true;
    wake.now();
  });
  const tail = await ctx.deps.eventTails.subscribe(orgId, () => wake.now());
  const credential = credentialKey(ctx.principal);
  let after = start;
  try {
    while (!signal?.aborted) {
      const page = await (async () => {
        ctx.deps.credentials.assertValid(ctx.principal);
        const fromTail = tail.after(after === undefined ? -1n : BigInt(after), TAIL_PAGE);
        if (fromTail) {
          // The role is checked again before events go out, at most every few seconds per
          // credential, and at once after a membership change, so a member removed meanwhile is
          // cut off; an idle feed costs no query.
          const force = recheck;
          recheck = false;
          // A forced check reads the organization's stream: the change that forced it may not be
          // in the read model yet, and a stale pass would hold for the next few seconds.
          if (fromTail.events.length > 0 || force)
            await tail.authorize(
              credential,
              () => authorizeQuery(ctx, orgId, 'events.list', { fromStream: force }),
              force,
            );
          return fromTail;
        }
        // Behind the tail's ring: page the log; listEvents checks the role again each time (after
        // a membership change, from the stream first, as above).
        if (recheck) await authorizeQuery(ctx, orgId, 'events.list', { fromStream: true });
        recheck = false;
        const listed = await listEvents(ctx, { orgId, ...(after ? { after } : {}), order: 'asc', limit: TAIL_PAGE });
        return { events: listed.events, more: listed.next !== null };
      })().catch((err: unknown) => {
        throw toTRPCError(ctx, err);
      });
      const last = page.events.at(-1);
      if (last !== undefined) {
        after = last.position;
        yield page.events;
      }
      if (!page.more) await wake.next(signal);
    }
  } finally {
    unwatch();
    tail.close();
    wake.close();
  }
}

/** Whose role a feed holds: feeds of one credential share its checks. */
function credentialKey(principal: Principal): string {
  return principal.kind === 'apiKey' ? `apiKey:${principal.keyId}` : `user:${principal.userId}`;
}

/** Errors thrown while streaming bypass the error middleware, so map them here the same way. */
function toTRPCError(ctx: AuthedContext, err: unknown): TRPCError {
  if (err instanceof TRPCError) return err;
  if (err instanceof AppError) return new TRPCError({ code: err.code, message: err.message, cause: err });
  ctx.log.error({ err }, 'events.live failed');
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `Internal error (request ${ctx.requestId}).` });
}

/** A wake-up that is never lost: a wake between two reads makes the next wait return at once. */
function createWake() {
  let pending = false;
  let wakeNow: (() => void) | undefined;
  return {
    /** Wakes the current wait, or makes the next one return at once. */
    now() {
      pending = true;
      wakeNow?.();
    },
    next(signal: AbortSignal | undefined): Promise<void> {
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          wakeNow = undefined;
          pending = false;
          resolve();
        };
        // The tail wakes the feed; this bounds the wait should a wake go astray.
        const timer = setTimeout(done, IDLE_RECHECK_MS);
        signal?.addEventListener('abort', done, { once: true });
        wakeNow = done;
      });
    },
    close() {
      wakeNow?.();
    },
  };
}
