import { CommonEnvSchema, parseEnv, z } from '@quorum/config';
import { IceServersEnvSchema } from '@quorum/signaling';

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
  SFU_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
  SFU_CONSUMER_BUDGET: z.coerce.number().int().min(1).default(500),
  /** Microphones forwarded at once in a meeting with more unmuted ones (the most recently heard); 0: every one. */
  SFU_AUDIBLE_SPEAKERS: z.coerce.number().int().min(0).max(64).default(3),
  SFU_RTC_PORT: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(65_535)]).default(44_400),
  SFU_LISTEN_IP: z.string().min(1).default('127.0.0.1'),
  SFU_ANNOUNCED_IP: z.string().min(1).optional(),
  SFU_RECONNECT_GRACE_SECONDS: z.coerce.number().min(0).max(300).default(10),
  SFU_LEAVE_RETRY_SECONDS: z.coerce.number().min(0).max(86_400).default(600),
  /** How often the node heartbeats into the placement, and how long one heartbeat keeps it live. */
  SFU_HEARTBEAT_SECONDS: z.coerce.number().min(0.1).max(60).default(3),
  SFU_HEARTBEAT_TTL_SECONDS: z.coerce.number().min(0.5).max(600).default(10),
  ICE_SERVERS: IceServersEnvSchema,
}).refine((env) => env.SFU_HEARTBEAT_TTL_SECONDS > env.SFU_HEARTBEAT_SECONDS, {
  path: ['SFU_HEARTBEAT_TTL_SECONDS'],
  message: 'must be longer than SFU_HEARTBEAT_SECONDS, or the node drops out of the placement between two heartbeats',
});
export type SfuEnv = z.infer<typeof SfuEnvSchema>;

export function parseSfuEnv(source?: Record<string, string | undefined>): SfuEnv {
  return parseEnv(SfuEnvSchema, source);
}
