/**
 * Webhook endpoints' tables: their signing secrets (`webhook_secrets`, public schema, written by
 * the gateway, read by the delivery engine) and the endpoints' read model
 * (`<rm>.webhook_endpoints`, projected from `webhooks-<orgId>`). Secrets never enter the event
 * log; `endpoint.created` and `endpoint.secret_rotated` only say that one exists. See
 * docs/webhooks.md.
 */
import type { ColumnType, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** int8 columns arrive as decimal strings. */
type Int8 = ColumnType<string, string | bigint | number, string | bigint | number>;

/**
 * One signing secret of an endpoint. `expires_at` null: the current secret; a rotated-out one
 * keeps signing until its `expires_at` (the rotation's `previousValidUntil`). Every secret with
 * `expires_at` null or in the future signs a delivery.
 */
export interface WebhookSecretTable {
  endpoint_id: string;
  org_id: string;
  /** `whsec_` and the base64 of 32 random bytes (Standard Webhooks). */
  secret: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
}

/** An endpoint as its events left it. */
export interface WebhookEndpointTable {
  id: string;
  org_id: string;
  url: string;
  description: string;
  event_types: ColumnType<string[], string[], string[]>;
  /** `enabled`, `paused`, `disabled` (Quorum's doing; see `disabled_reason`) or `deleted`. */
  status: string;
  disabled_reason: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  secret_rotated_at: Timestamp | null;
  /** Position of the last event applied to the row. */
  position: Int8;
}

export type WebhookSecretRow = Selectable<WebhookSecretTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointTable>;

/** DDL of `webhook_secrets`, in the public schema. */
export const WEBHOOK_SECRETS_SQL = `
CREATE TABLE IF NOT EXISTS webhook_secrets (
  endpoint_id uuid NOT NULL,
  org_id uuid NOT NULL,
  secret text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  PRIMARY KEY (endpoint_id, created_at)
);
CREATE UNIQUE INDEX IF NOT EXISTS webhook_secrets_current ON webhook_secrets (endpoint_id) WHERE expires_at IS NULL;
`;

/** DDL of the endpoints' read model in schema `s`. */
export function webhooksReadModelSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.webhook_endpoints (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  url text NOT NULL,
  description text NOT NULL,
  event_types text[] NOT NULL,
  status text NOT NULL,
  disabled_reason text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  secret_rotated_at timestamptz,
  position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_endpoints_org ON ${s}.webhook_endpoints (org_id, created_at);
`;
}
