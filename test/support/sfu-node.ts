/**
 * An SFU node in the test's process, beside a test Quorum run with `SFU: 'off'`: one mediasoup
 * worker on free ports, signaling on a free loopback port, heartbeating into the Quorum's Redis
 * placement namespace and reporting to its gateway (or to `gatewayUrl`, a proxy in front of it).
 */
import type { EventBus } from '@quorum/bus';
import { RedisPlacement } from '@quorum/placement/redis';
import { startSfu, type Sfu, type SfuOptions } from '@quorum/sfu';
import { createSfuHttpServer, type SfuHttpServer } from '@quorum/sfu/http';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import type { TestQuorum } from './test-quorum';

export interface TestSfuNode {
  sfu: Sfu;
  http: SfuHttpServer;
  /** Its signaling URL, as `meetings.join` hands it out. */
  url: string;
  close(): Promise<void>;
}

export interface TestSfuNodeOptions {
  nodeId: string;
  /** The client its placement uses (a caller-owned one, maybe through a proxy). */
  redis: Redis;
  heartbeatMs: number;
  ttlMs: number;
  bus?: EventBus;
  gatewayUrl?: string;
  logLevel?: 'warn' | 'silent';
  more?: Pick<SfuOptions, 'reconnectGraceMs' | 'leaveRetryFirstDelayMs'>;
}

export async function startTestSfuNode(q: TestQuorum, options: TestSfuNodeOptions): Promise<TestSfuNode> {
  // The URL is only known once listening: the HTTP server starts first, on a free port.
  let sfu!: Sfu;
  const http = createSfuHttpServer(
    new Proxy({} as Sfu, { get: (_, key) => (sfu as unknown as Record<PropertyKey, unknown>)[key] }),
    q.env.SFU_SERVICE_SECRET!,
  );
  const { port } = await http.listen(0, '127.0.0.1');
  const url = `ws://127.0.0.1:${port}/sfu`;
  sfu = await startSfu({
    nodeId: options.nodeId,
    logger: pino({ level: options.logLevel ?? 'warn' }),
    pool: { workerCount: 1, webRtcServerBasePort: 'auto' },
    joinTokenSecret: q.env.JOIN_TOKEN_SECRET!,
    gateway: { url: options.gatewayUrl ?? q.baseUrl, serviceSecret: q.env.SFU_SERVICE_SECRET! },
    iceServers: [],
    ...(options.bus ? { bus: options.bus } : {}),
    placement: {
      placement: new RedisPlacement({ redis: options.redis, namespace: `${q.env.REDIS_NAMESPACE}:placement` }),
      signalingUrl: url,
      heartbeatMs: options.heartbeatMs,
      ttlMs: options.ttlMs,
    },
    ...options.more,
  });
  return {
    sfu,
    http,
    url,
    async close() {
      await sfu.close();
      await http.close();
    },
  };
}
