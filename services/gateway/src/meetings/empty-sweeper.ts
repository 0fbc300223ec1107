/**
 * Ends meetings that stayed empty: every `intervalMs` (0: only when `sweep()` is called), the
 * live meetings the read model shows with nobody in them get an `EndEmptySession` command. The
 * decider decides from the stream (a participant who came back, or a grace period not yet over,
 * refuses it), so a stale read model or two gateways sweeping at once cannot end a meeting early
 * or twice.
 */
import { randomUUID } from 'node:crypto';
import { AppError, sessionDecider, streamIds } from '@quorum/domain';
import { createIdSource } from '../commands/ids';
import type { GatewayDeps } from '../deps';
import { startPeriodicSweep, type PeriodicSweep } from './periodic-sweep';

/** `sweep()` resolves with the number of meetings ended. */
export type EmptyMeetingSweeper = PeriodicSweep;

export function startEmptyMeetingSweeper(
  deps: GatewayDeps,
  options: { graceMs: number; intervalMs: number },
): EmptyMeetingSweeper {
  const sweepOnce = async (): Promise<number> => {
    let ended = 0;
    for (const { session_id: sessionId, org_id: orgId } of await deps.read.emptyLiveMeetings()) {
      try {
        await deps.commands.execute(
          sessionDecider,
          streamIds.session(sessionId),
          {
            orgId,
            actor: { kind: 'system', id: 'gateway:empty-sweeper' },
            correlationId: randomUUID(),
            ids: createIdSource('system:empty-sweeper', undefined),
          },
          (state) =>
            sessionDecider.decide({ type: 'EndEmptySession', graceMs: options.graceMs, at: deps.now() }, state),
        );
        ended++;
      } catch (err) {
        if (err instanceof AppError) continue; // not empty any more, grace not over, already ended
        deps.logger.warn({ err, sessionId }, 'could not end an empty meeting; will retry');
      }
    }
    return ended;
  };
  return startPeriodicSweep('empty-meeting sweep', deps.logger, options.intervalMs, sweepOnce);
}
