/**
 * Records the leaves a dead SFU node could not report. A node that crashes (or is cut off)
 * reports nothing more, so the people it carried would count as present for good: usage would
 * accrue and the meeting would never end empty. Every `intervalMs`, participants the read model
 * shows connected through a node run that is no longer live are looked at; once that run has
 * been silent for `graceMs`, each gets a leave (`disconnected`) at the run's last heartbeat.
 *
 * Someone who came back through another node meanwhile is left alone: the leave names the dead
 * run, and the decider refuses it for a participant now on another one
 * (`session.participant_elsewhere`), whatever the read model still says. Two gateways sweeping
 * at once record each leave once: the second finds the participant gone.
 *
 * A run the placement has no sighting of (the in-process placement after a restart, or a run
 * older than the retention) is given the time this sweeper first found it missing.
 *
 * A node that was only cut off from the placement for longer than the grace loses its people
 * here while they stay connected to it; when its heartbeats land again it reports them as
 * joined again (`SignalingServer.reportPresent`), so their stints resume.
 */
import { randomUUID } from 'node:crypto';
import { AppError, sessionDecider, streamIds } from '@quorum/domain';
import type { Placement } from '@quorum/placement';
import { createIdSource } from '../commands/ids';
import type { GatewayDeps } from '../deps';
import { startPeriodicSweep, type PeriodicSweep } from './periodic-sweep';

/** `sweep()` resolves with the number of leaves recorded. */
export type LostNodeSweeper = PeriodicSweep;

export interface LostNodeSweeperOptions {
  placement: Placement;
  /** How long a run must have been silent before its participants are recorded as gone. */
  graceMs: number;
  intervalMs: number;
}

export function startLostNodeSweeper(deps: GatewayDeps, options: LostNodeSweeperOptions): LostNodeSweeper {
  const firstMissed = new Map<string, number>();

  const lostAt = async (run: string): Promise<Date | undefined> => {
    const slash = run.lastIndexOf('/');
    const seen = await options.placement.lastSeen(run.slice(0, slash), run.slice(slash + 1));
    if (seen) return seen.ageMs >= options.graceMs ? seen.at : undefined;
    const now = deps.now().getTime();
    const first = firstMissed.get(run) ?? now;
    firstMissed.set(run, first);
    return now - first >= options.graceMs ? new Date(first) : undefined;
  };

  const liveRuns = async () => new Set((await options.placement.liveNodes()).map((n) => `${n.nodeId}/${n.instance}`));

  const sweepOnce = async (): Promise<number> => {
    const live = [...(await liveRuns())];
    const byRun = new Map<string, Array<{ session_id: string; org_id: string; participant_id: string }>>();
    for (const row of await deps.read.participantsOffRuns(live)) {
      const list = byRun.get(row.node) ?? [];
      list.push(row);
      byRun.set(row.node, list);
    }
    for (const run of firstMissed.keys()) if (!byRun.has(run)) firstMissed.delete(run);

    let recorded = 0;
    for (const [run, participants] of byRun) {
      const at = await lostAt(run);
      if (at === undefined) continue;
      // A run that heartbeats again (it was cut off, not dead) reports its people itself.
      if ((await liveRuns()).has(run)) continue;
      deps.logger.info(
        { run, participants: participants.length, lostAt: at.toISOString() },
        'SFU node run lost: recording its participants as disconnected',
      );
      for (const { session_id: sessionId, org_id: orgId, participant_id: participantId } of participants) {
        try {
          await deps.commands.execute(
            sessionDecider,
            streamIds.session(sessionId),
            {
              orgId,
              actor: { kind: 'system', id: 'gateway:lost-node-sweeper' },
              correlationId: randomUUID(),
              ids: createIdSource('system:lost-node-sweeper', undefined),
            },
            (state) =>
              sessionDecider.decide(
                { type: 'LeaveSession', participantId, reason: 'disconnected', at, decidedAt: deps.now(), node: run },
                state,
              ),
          );
          recorded++;
        } catch (err) {
          if (err instanceof AppError) continue; // gone already, back through another node, meeting ended
          deps.logger.warn(
            { err, sessionId, participantId, run },
            'could not record the leave of a lost node; will retry',
          );
        }
      }
    }
    return recorded;
  };

  return startPeriodicSweep('lost-node sweep', deps.logger, options.intervalMs, sweepOnce);
}
