/**
 * `events.live`: an organization's events as the projector applies them, in position order,
 * as a tRPC subscription (SSE over HTTP, or WebSocket). The feed reads the same event log as
 * `events.list`, so it shows exactly what a reload would; it wakes when the projection
 * advances in this process (`deps.onProjected`) and otherwise polls. Each event is `tracked`
 * by its position, so a client that reconnects resumes after the last event it got.
 */
import { AppError, IdSchema } from '@quorum/domain';
import type { WireEvent } from '@quorum/eventstore';
import { tracked, TRPCError, type TrackedEnvelope } from '@trpc/server';
import { z } from 'zod';
import { positionSchema, type AuthedContext, type Context } from '../trpc';
import { listEvents } from './events.handler';

const Position = positionSchema();

export const LiveEventsInputSchema = z.object({
  orgId: IdSchema,
  /** Start strictly after this position; absent, start after the newest event now. */
  after: Position.optional(),
  /** Set by tRPC clients when they reconnect: the position of the last event received. */
  lastEventId: Position.optional(),
});
export type LiveEventsInput = z.infer<typeof LiveEventsInputSchema>;

const PAGE = 100;
/** Without a projector hook (standalone gateway), poll this often. */
const POLL_MS = 1_000;
/** With the hook, still poll now and then: a version switch or another process may advance it. */
const SAFETY_POLL_MS = 5_000;

/**
 * Checks access and finds the starting position before the stream opens, so a refusal is an
 * ordinary tRPC error (NOT_FOUND for a non-member, FORBIDDEN for a role without `events.list`).
 */
export async function liveEvents(
  ctx: AuthedContext,
  input: LiveEventsInput,
  signal: AbortSignal | undefined,
): Promise<AsyncGenerator<TrackedEnvelope<WireEvent>>> {
  const newest = await listEvents(ctx, { orgId: input.orgId, order: 'desc', limit: 1 });
  const after = input.lastEventId ?? input.after ?? newest.events[0]?.position;
  return follow(ctx, input.orgId, after, signal);
}

async function* follow(
  ctx: AuthedContext,
  orgId: string,
  start: string | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<TrackedEnvelope<WireEvent>> {
  const wake = createWake(ctx.deps.onProjected);
  // A revoked key, an ended login, an expired token or a membership change wakes the feed at
  // once (on whichever gateway it happened), and the checks below end it.
  const unwatch = ctx.deps.credentials.watch({ principal: ctx.principal, orgId }, () => wake.now());
  let after = start;
  try {
    while (!signal?.aborted) {
      // listEvents checks the role again each time, so a member removed meanwhile is cut off.
      const page = await (async () => {
        ctx.deps.credentials.assertValid(ctx.principal);
        return listEvents(ctx, { orgId, ...(after ? { after } : {}), order: 'asc', limit: PAGE });
      })().catch((err: unknown) => {
        throw toTRPCError(ctx, err);
      });
      for (const event of page.events) {
        after = event.position;
        yield tracked(event.position, event);
      }
      if (page.next === null) await wake.next(signal);
    }
  } finally {
    unwatch();
    wake.close();
  }
}

/** Errors thrown while streaming bypass the error middleware, so map them here the same way. */
function toTRPCError(ctx: AuthedContext, err: unknown): TRPCError {
  if (err instanceof TRPCError) return err;
  if (err instanceof AppError) return new TRPCError({ code: err.code, message: err.message, cause: err });
  ctx.log.error({ err }, 'events.live failed');
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `Internal error (request ${ctx.requestId}).` });
}

/** A wake-up that is never lost: an advance between two reads makes the next wait return at once. */
function createWake(onProjected: Context['deps']['onProjected']) {
  let pending = false;
  let wakeNow: (() => void) | undefined;
  const unsubscribe = onProjected?.(() => {
    pending = true;
    wakeNow?.();
  });
  const pollMs = unsubscribe ? SAFETY_POLL_MS : POLL_MS;
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
        const timer = setTimeout(done, pollMs);
        signal?.addEventListener('abort', done, { once: true });
        wakeNow = done;
      });
    },
    close() {
      wakeNow?.();
      unsubscribe?.();
    },
  };
}
