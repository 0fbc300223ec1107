/**
 * One SFU node: the mediasoup worker pool, the signaling server, reports to the gateway,
 * host controls from the bus, and (with a placement) a heartbeat that publishes the node's
 * load and keeps its meetings assigned to it. `services/sfu/src/main.ts` runs it standalone;
 * the all-in-one process (`services/quorum`) mounts its signaling on the gateway's server.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, EventBus } from '@quorum/bus';
import type { Placement } from '@quorum/placement';
import type { IceServer } from '@quorum/signaling';
import type { Logger } from 'pino';
import { WorkerPool, type WorkerPoolOptions } from './media/worker-pool';
import { consumeAccessChanges, consumeHostControls } from './signaling/host-controls';
import { GatewayReporter, type SessionReporter } from './signaling/session-reporter';
import { SignalingServer } from './signaling/signaling-server';

export interface SfuOptions {
  /** Stable id of this node (placement key and durable consumer name). */
  nodeId: string;
  logger: Logger;
  pool?: Omit<WorkerPoolOptions, 'logger'>;
  joinTokenSecret: string;
  /** Where to report joins and leaves, with which secret (or a reporter of your own). */
  gateway: { url: string; serviceSecret: string } | { reporter: SessionReporter };
  iceServers: IceServer[];
  /** Host controls; without a bus, mute, remove, lock and end are not enforced live. */
  bus?: EventBus;
  /** Publishes this node (its signaling URL and load) for the gateway's `meetings.join`. */
  placement?: { placement: Placement; signalingUrl: string; heartbeatMs?: number; ttlMs?: number };
  reconnectGraceMs?: number;
  /** How long a leave the gateway does not take is retried (default 10 min), and the first pause (1 s). */
  leaveRetryMs?: number;
  leaveRetryFirstDelayMs?: number;
}

export interface Sfu {
  /** This run of the node: new at each start, heartbeated and sent with every report. */
  instance: string;
  pool: WorkerPool;
  server: SignalingServer;
  /** One heartbeat now (tests); runs on its own every `heartbeatMs`. */
  heartbeat(): Promise<void>;
  close(): Promise<void>;
}

export async function startSfu(options: SfuOptions): Promise<Sfu> {
  const instance = randomUUID();
  const logger = options.logger.child({ component: 'sfu', nodeId: options.nodeId, instance });
  const pool = await WorkerPool.create({ ...options.pool, logger });
  const reporter =
    'reporter' in options.gateway
      ? options.gateway.reporter
      : new GatewayReporter({
          gatewayUrl: options.gateway.url,
          serviceSecret: options.gateway.serviceSecret,
          subject: `sfu:${options.nodeId}`,
          instance,
        });
  const place = options.placement;
  const assignmentTtlMs = (place?.ttlMs ?? 10_000) * 3;
  const hosted = new Set<string>();
  const server = new SignalingServer({
    pool,
    reporter,
    joinTokenSecret: options.joinTokenSecret,
    iceServers: options.iceServers,
    logger,
    ...(options.reconnectGraceMs !== undefined ? { reconnectGraceMs: options.reconnectGraceMs } : {}),
    ...(options.leaveRetryMs !== undefined ? { leaveRetryMs: options.leaveRetryMs } : {}),
    ...(options.leaveRetryFirstDelayMs !== undefined ? { leaveRetryFirstDelayMs: options.leaveRetryFirstDelayMs } : {}),
    onMeetingOpened: (sessionId) => {
      hosted.add(sessionId);
      place?.placement
        .touch(sessionId, options.nodeId, assignmentTtlMs)
        .catch((err: unknown) => logger.warn({ err, sessionId }, 'placement touch failed'));
    },
    onMeetingClosed: (sessionId) => {
      hosted.delete(sessionId);
      place?.placement
        .release(sessionId, options.nodeId)
        .catch((err: unknown) => logger.warn({ err, sessionId }, 'placement release failed'));
    },
  });

  let consumer: Consumer | undefined;
  let accessConsumer: Consumer | undefined;
  if (options.bus) {
    consumer = await consumeHostControls({ bus: options.bus, server, nodeId: options.nodeId, logger });
    accessConsumer = await consumeAccessChanges({ bus: options.bus, server, nodeId: options.nodeId, logger });
  } else logger.warn('no bus: host controls (mute, remove, lock, end) are recorded but not enforced live');

  const ttlMs = place?.ttlMs ?? 10_000;
  let lastBeat: number | undefined;
  const heartbeat = async () => {
    if (!place) return;
    const load = pool.liveWorkers().reduce((n, w) => n + w.consumers, 0);
    const capacity = pool.workerCount * pool.consumerBudgetPerWorker;
    await place.placement.heartbeat(
      { nodeId: options.nodeId, signalingUrl: place.signalingUrl, load, capacity, instance },
      ttlMs,
    );
    const now = Date.now();
    const silentMs = lastBeat === undefined ? 0 : now - lastBeat;
    lastBeat = Math.max(lastBeat ?? 0, now);
    if (silentMs > ttlMs) {
      // Gateways may have taken this run for dead meanwhile and recorded its participants as
      // gone (the lost-node sweep); they are still here, so they are reported again.
      const reported = await server.reportPresent();
      logger.warn(
        { silentMs, reported },
        'heartbeats lapsed: this node was not live in the placement; its participants were reported again',
      );
    }
    // The meetings this node hosts stay assigned to it while it lives.
    await Promise.all(
      [...hosted].map((sessionId) => place.placement.touch(sessionId, options.nodeId, assignmentTtlMs)),
    );
  };
  let timer: NodeJS.Timeout | undefined;
  if (place) {
    await heartbeat();
    timer = setInterval(() => {
      heartbeat().catch((err: unknown) => logger.warn({ err }, 'placement heartbeat failed'));
    }, place.heartbeatMs ?? 3_000);
    timer.unref();
  }

  let closing: Promise<void> | undefined;
  return {
    instance,
    pool,
    server,
    heartbeat,
    close: () =>
      (closing ??= (async () => {
        if (timer) clearInterval(timer);
        await place?.placement
          .deregister(options.nodeId)
          .catch((err: unknown) => logger.warn({ err }, 'placement deregister failed'));
        await consumer?.close();
        await accessConsumer?.close();
        await server.close();
        pool.close();
      })()),
  };
}
