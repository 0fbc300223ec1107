import { CommonEnvSchema, parseEnv, z } from '@quorum/config';
import { IceServersEnvSchema } from '@quorum/signaling';
import type { SfuOptions } from './sfu';

/**
 * Settings of an SFU node's media and sessions, the same for a standalone node and the one the
 * all-in-one process embeds (services/quorum extends its schema with this shape).
 */
export const SfuNodeEnvShape = {
  /** mediasoup workers; one per core by default. */
  SFU_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
  /** Consumers a worker takes before a room spreads to another worker. */
  SFU_CONSUMER_BUDGET: z.coerce.number().int().min(1).default(500),
  /** Microphones forwarded at once in a meeting with more unmuted ones (the most recently heard); 0: every one. */
  SFU_AUDIBLE_SPEAKERS: z.coerce.number().int().min(0).max(64).default(3),
  /** First WebRtcServer port (worker i listens on it + i, UDP and TCP), or `auto`. */
  SFU_RTC_PORT: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(65_535)]).default(44_400),
  /** IP announced in ICE candidates when browsers reach the SFU through another address. */
  SFU_ANNOUNCED_IP: z.string().min(1).optional(),
  /** A dropped participant is reported as left after this long unless they rejoin. */
  SFU_RECONNECT_GRACE_SECONDS: z.coerce.number().min(0).max(300).default(10),
  /** A leave the gateway does not take (it is away, it answers 5xx) is tried again for this long. */
  SFU_LEAVE_RETRY_SECONDS: z.coerce.number().min(0).max(86_400).default(600),
  /** ICE servers for browsers, as JSON (`[{"urls":"stun:stun.example.org"}]`); none by default. */
  ICE_SERVERS: IceServersEnvSchema,
};

/** A parsed environment with the {@link SfuNodeEnvShape} fields; `SFU_LISTEN_IP` where the process has it. */
export type SfuNodeEnv = z.infer<z.ZodObject<typeof SfuNodeEnvShape>> & { SFU_LISTEN_IP?: string };

/** The worker pool, ICE servers and session timings of {@link startSfu} from a parsed environment. */
export function sfuNodeOptions(
  env: SfuNodeEnv,
): Required<Pick<SfuOptions, 'pool' | 'iceServers' | 'reconnectGraceMs' | 'leaveRetryMs'>> {
  return {
    pool: {
      ...(env.SFU_WORKERS ? { workerCount: env.SFU_WORKERS } : {}),
      consumerBudgetPerWorker: env.SFU_CONSUMER_BUDGET,
      audibleSpeakers: env.SFU_AUDIBLE_SPEAKERS,
      webRtcServerBasePort: env.SFU_RTC_PORT,
      ...(env.SFU_LISTEN_IP ? { listenIp: env.SFU_LISTEN_IP } : {}),
      ...(env.SFU_ANNOUNCED_IP ? { announcedIp: env.SFU_ANNOUNCED_IP } : {}),
    },
    iceServers: env.ICE_SERVERS,
    reconnectGraceMs: env.SFU_RECONNECT_GRACE_SECONDS * 1000,
    leaveRetryMs: env.SFU_LEAVE_RETRY_SECONDS * 1000,
  };
}

/** Environment of a standalone SFU node (`src/main.ts`). */
export const SfuEnvSchema = CommonEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3100),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Stable id of this node: placement key and durable consumer name. */
  SFU_NODE_ID: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/),
  /** This node's signaling URL as browsers reach it, e.g. `wss://sfu-1.example.org/sfu`. */
  SFU_PUBLIC_URL: z.string().url(),
  /** The gateway joins and leaves are reported to. */
  GATEWAY_URL: z.string().url(),
  JOIN_TOKEN_SECRET: z.string().min(32),
  SFU_SERVICE_SECRET: z.string().min(32),
  /** Placement and load (required: several nodes share it with the gateways). */
  REDIS_URL: z.string().min(1),
  /** Host controls. */
  NATS_URL: z.string().min(1),
  NATS_NAMESPACE: z.string().optional(),
  REDIS_NAMESPACE: z.string().optional(),
  ...SfuNodeEnvShape,
  /** IP the WebRtcServers listen on. */
  SFU_LISTEN_IP: z.string().min(1).default('127.0.0.1'),
  /** How often the node heartbeats into the placement, and how long one heartbeat keeps it live. */
  SFU_HEARTBEAT_SECONDS: z.coerce.number().min(0.1).max(60).default(3),
  SFU_HEARTBEAT_TTL_SECONDS: z.coerce.number().min(0.5).max(600).default(10),
}).refine((env) => env.SFU_HEARTBEAT_TTL_SECONDS > env.SFU_HEARTBEAT_SECONDS, {
  path: ['SFU_HEARTBEAT_TTL_SECONDS'],
  message: 'must be longer than SFU_HEARTBEAT_SECONDS, or the node drops out of the placement between two heartbeats',
});
export type SfuEnv = z.infer<typeof SfuEnvSchema>;

export function parseSfuEnv(source?: Record<string, string | undefined>): SfuEnv {
  return parseEnv(SfuEnvSchema, source);
}
