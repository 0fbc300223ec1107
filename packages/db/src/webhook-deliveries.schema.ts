/**
 * The webhook delivery engine's own tables (`services/webhooks`), in the public schema: the
 * endpoints as its fan-out folded them from `webhooks-<orgId>` (where to send, which types,
 * whether to), one delivery per endpoint and public event (keyed by both, so a redelivered or
 * replayed event adds nothing), every attempt of each, and how far each fan-out has read the
 * log. See docs/webhooks.md.
 */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** int8 columns arrive as decimal strings. */
type Int8 = ColumnType<string, string | bigint | number, string | bigint | number>;

/** Where an endpoint stands for delivery. */
export type WebhookTargetStatus = 'enabled' | 'paused' | 'disabled' | 'deleted';
/** A delivery's state: `pending` until a 2xx (`delivered`) or its last scheduled attempt (`failed`). */
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** An endpoint as the fan-out folded it from its events, in log order. */
export interface WebhookEndpointTargetTable {
  endpoint_id: string;
  org_id: string;
  url: string;
  /** Public event types it receives; empty: every public type. */
  event_types: string[];
  status: WebhookTargetStatus;
  /** Position of `endpoint.created`: events at or before it are not delivered to the endpoint. */
  created_position: Int8;
  /** Position of the last endpoint event folded in (an older one arriving again changes nothing). */
  applied_position: Int8;
  /** Position of the event that last enabled it (created or resumed): an automatic disable is appended once per enabling. */
  enabled_position: Int8;
  /** The first failed attempt with no success since; null while it succeeds. */
  failing_since: Timestamp | null;
  updated_at: GeneratedTimestamp;
}

/** One public event for one endpoint. */
export interface WebhookDeliveryTable {
  /** uuid v5 of endpoint and event: the same however often the fan-out sees the event. */
  id: string;
  endpoint_id: string;
  org_id: string;
  /** The event id, sent as `webhook-id` on every attempt and resend. */
  event_id: string;
  event_type: string;
  stream_id: string;
  /** The event's position in the log: the order of deliveries of one stream to one endpoint. */
  position: Int8;
  /** The CloudEvents envelope, as the exact JSON text every attempt sends and signs. */
  body: string;
  status: WebhookDeliveryStatus;
  /** Attempts made, in all. */
  attempts: number;
  /** Attempts since the retry schedule last started (creation, resend, recover). */
  round_attempts: number;
  next_attempt_at: Timestamp;
  /** A worker holds it until then (its attempt's deadline, with a margin); null when none does. */
  claimed_until: Timestamp | null;
  claim_token: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: GeneratedTimestamp;
  delivered_at: Timestamp | null;
  failed_at: Timestamp | null;
}

/** One attempt of a delivery: what was sent and what came back. */
export interface WebhookAttemptTable {
  delivery_id: string;
  n: number;
  at: Timestamp;
  /** Request headers as sent: no secret is among them (the signature is derived from the secrets). */
  request_headers: unknown;
  status: number | null;
  response_headers: unknown;
  /** The answer's body, at most 4 KiB. */
  response_body: string | null;
  duration_ms: number;
  /** `timeout`, `connection`, `tls`, `address_not_allowed`, `invalid_url`, or `http` for a non-2xx answer. */
  error_class: string | null;
  error_message: string | null;
}

/** How far a fan-out (by durable name) has read the log. */
export interface WebhookFanoutCheckpointTable {
  name: string;
  position: Int8;
  updated_at: GeneratedTimestamp;
}

/** DDL of the delivery tables (the secrets they sign with are in `webhook_secrets`, webhooks.schema.ts). */
export const WEBHOOK_DELIVERIES_SQL = `
CREATE TABLE IF NOT EXISTS webhook_endpoint_targets (
  endpoint_id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  url text NOT NULL,
  event_types text[] NOT NULL,
  status text NOT NULL,
  created_position bigint NOT NULL,
  applied_position bigint NOT NULL,
  enabled_position bigint NOT NULL,
  failing_since timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS webhook_endpoint_targets_org ON webhook_endpoint_targets (org_id);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id uuid PRIMARY KEY,
  endpoint_id uuid NOT NULL,
  org_id uuid NOT NULL,
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  stream_id text NOT NULL,
  position bigint NOT NULL,
  body text NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  round_attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  claimed_until timestamptz,
  claim_token uuid,
  last_status integer,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  failed_at timestamptz,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_stream ON webhook_deliveries (endpoint_id, stream_id, position) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, position DESC);
CREATE TABLE IF NOT EXISTS webhook_attempts (
  delivery_id uuid NOT NULL,
  n integer NOT NULL,
  at timestamptz NOT NULL,
  request_headers jsonb NOT NULL,
  status integer,
  response_headers jsonb,
  response_body text,
  duration_ms real NOT NULL,
  error_class text,
  error_message text,
  PRIMARY KEY (delivery_id, n)
);
CREATE TABLE IF NOT EXISTS webhook_fanout_checkpoints (
  name text PRIMARY KEY,
  position bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`;
