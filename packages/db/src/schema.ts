/**
 * Table types (kysely) and DDL. Gateway-owned tables (users, tokens, API keys) and
 * projection bookkeeping live in `public`; read models live in a schema per projection
 * version (`rm_v1`, `rm_v2`, ...) so a rebuild can fill a new version beside the live one.
 */
import type { ColumnType, Insertable, Selectable } from 'kysely';
import { billingReadModelSql, type SeatHoldingTable, type SeatIntervalTable } from './billing.schema';
import {
  BILLING_SYNC_SQL,
  type BillingAccountTable,
  type BillingDeadLetterTable,
  type BillingEffectTable,
  type BillingUsageCursorTable,
} from './billing-sync.schema';
import {
  METERING_SQL,
  type MeteringEffectTable,
  type MeteringSessionTable,
  type MeteringThresholdTable,
  type MeteringTotalTable,
} from './metering.schema';
import { OPERATORS_SQL, type OperatorTable } from './operators.schema';
import {
  STRIPE_WEBHOOKS_SQL,
  stripeReadModelSql,
  type BillingCustomerTable,
  type BillingInvoiceTable,
  type BillingReconciliationTable,
  type StripeWebhookEventTable,
} from './stripe.schema';
import {
  WEBHOOK_SECRETS_SQL,
  webhooksReadModelSql,
  type WebhookEndpointTable,
  type WebhookSecretTable,
} from './webhooks.schema';
import {
  usageReadModelSql,
  type UsageDailyTable,
  type UsageRecordTable,
  type UsageThresholdTable,
} from './usage.schema';
import {
  WEBHOOK_DELIVERIES_SQL,
  type WebhookAttemptTable,
  type WebhookDeliveryTable,
  type WebhookEndpointTargetTable,
  type WebhookFanoutCheckpointTable,
} from './webhook-deliveries.schema';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamp with a database default. */
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** int8 columns arrive as decimal strings. */
type Int8 = ColumnType<string, string | bigint | number, string | bigint | number>;

export interface UserTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  created_at: GeneratedTimestamp;
  /** Set once the user has shown they read mail at `email` (a verification or invitation link). */
  email_verified_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}
/**
 * Secrets mailed to an address to prove its holder reads it: `email` (sign-up verification, a
 * user's address) or `invitation` (the invitation link; `subject` is the invitation id). Stored
 * hashed, single use, expiring.
 */
export interface EmailTokenTable {
  token_hash: string;
  purpose: string;
  subject: string;
  email: string;
  org_id: string | null;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  created_at: GeneratedTimestamp;
}
export interface RefreshTokenTable {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  revoked_at: Timestamp | null;
  created_at: GeneratedTimestamp;
}
export interface ApiKeyTable {
  id: string;
  org_id: string;
  name: string;
  role: string;
  secret_hash: string;
  created_by: string;
  created_at: GeneratedTimestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}
/**
 * Credentials taken away (a login ended, an API key revoked, a membership changed), logged so
 * that every gateway learns of it within its poll interval and cuts off what still holds the
 * credential (access tokens, open sockets, live subscriptions). Rows older than a day are pruned.
 */
export interface CredentialRevocationTable {
  id: ColumnType<string, never, never>;
  /** `login` (subject: the login's family id), `apiKey` (the key id), `member` (`<orgId>:<userId>`). */
  kind: string;
  subject: string;
  at: GeneratedTimestamp;
}
/** Meeting join tokens already presented to an SFU (by `jti`), kept until they expire: each works once. */
export interface UsedJoinTokenTable {
  jti: string;
  expires_at: Timestamp;
}
export interface ProjectionCheckpointTable {
  projection: string;
  version: number;
  position: Int8;
  updated_at: GeneratedTimestamp;
}
export interface ProjectionActiveTable {
  projection: string;
  version: number;
  switched_at: GeneratedTimestamp;
}
export interface DeadLetterTable {
  id: ColumnType<string, never, never>;
  projection: string;
  version: number;
  event_id: string;
  position: Int8;
  type: string;
  error: string;
  attempts: number;
  created_at: GeneratedTimestamp;
  resolved_at: Timestamp | null;
  resolution: 'retried' | 'skipped' | null;
}
export interface RelayCheckpointTable {
  name: string;
  position: Int8;
  updated_at: GeneratedTimestamp;
}

export interface OrganizationTable {
  org_id: string;
  name: string;
  plan: string;
  status: string;
  trial_ends_at: Timestamp | null;
  owner_user_id: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface EntitlementTable {
  org_id: string;
  plan: string;
  max_seats: number;
  max_participants_per_meeting: number;
  meeting_minutes_per_month: number | null;
  recording: boolean;
  api_access: boolean;
}
export interface MemberTable {
  org_id: string;
  user_id: string;
  email: string;
  role: string;
  joined_at: Timestamp;
}
export interface InvitationTable {
  invitation_id: string;
  org_id: string;
  email: string;
  role: string;
  status: 'pending' | 'accepted';
  invited_by: string;
  expires_at: Timestamp;
  created_at: Timestamp;
}
export interface SeatTable {
  org_id: string;
  purchased: number;
  assigned: number;
}
export interface SeatAssignmentTable {
  org_id: string;
  user_id: string;
  assigned_at: Timestamp;
}
export interface MeetingTable {
  session_id: string;
  org_id: string;
  title: string;
  host_user_id: string;
  status: 'scheduled' | 'live' | 'ended';
  locked: boolean;
  scheduled_for: Timestamp | null;
  created_at: Timestamp;
  started_at: Timestamp | null;
  ended_at: Timestamp | null;
  end_reason: string | null;
  participants_now: number;
  peak_participants: number;
}
/** One stint of a participant in a meeting (joined, then left or still there). */
export interface MeetingParticipantTable {
  session_id: string;
  participant_id: string;
  joined_at: Timestamp;
  org_id: string;
  display_name: string;
  is_host: boolean;
  left_at: Timestamp | null;
  /** `left`, `disconnected`, `removed`, or `ended` (the meeting ended while they were in it). */
  leave_reason: string | null;
  /** The SFU node run (`<nodeId>/<instance>`) they are connected through, when recorded. */
  node: string | null;
}
export interface EventLogTable {
  org_id: string;
  position: Int8;
  event_id: string;
  type: string;
  stream_id: string;
  revision: Int8;
  data: unknown;
  metadata: unknown;
  occurred_at: Timestamp;
}

export interface Database {
  users: UserTable;
  refresh_tokens: RefreshTokenTable;
  api_keys: ApiKeyTable;
  email_tokens: EmailTokenTable;
  credential_revocations: CredentialRevocationTable;
  used_join_tokens: UsedJoinTokenTable;
  projection_checkpoints: ProjectionCheckpointTable;
  projection_active: ProjectionActiveTable;
  projection_dead_letters: DeadLetterTable;
  relay_checkpoints: RelayCheckpointTable;
  metering_sessions: MeteringSessionTable;
  metering_effects: MeteringEffectTable;
  metering_totals: MeteringTotalTable;
  metering_thresholds: MeteringThresholdTable;
  operators: OperatorTable;
  billing_accounts: BillingAccountTable;
  billing_effects: BillingEffectTable;
  billing_usage_cursors: BillingUsageCursorTable;
  billing_dead_letters: BillingDeadLetterTable;
  stripe_webhook_events: StripeWebhookEventTable;
  webhook_endpoint_targets: WebhookEndpointTargetTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
  webhook_fanout_checkpoints: WebhookFanoutCheckpointTable;
  organizations: OrganizationTable;
  entitlements: EntitlementTable;
  members: MemberTable;
  invitations: InvitationTable;
  seats: SeatTable;
  seat_assignments: SeatAssignmentTable;
  meetings: MeetingTable;
  meeting_participants: MeetingParticipantTable;
  event_log: EventLogTable;
  usage_records: UsageRecordTable;
  usage_daily: UsageDailyTable;
  usage_thresholds: UsageThresholdTable;
  seat_intervals: SeatIntervalTable;
  seat_holdings: SeatHoldingTable;
  billing_customers: BillingCustomerTable;
  billing_invoices: BillingInvoiceTable;
  billing_reconciliations: BillingReconciliationTable;
  webhook_secrets: WebhookSecretTable;
  webhook_endpoints: WebhookEndpointTable;
}

export type UserRow = Selectable<UserTable>;
export type NewUser = Insertable<UserTable>;
export type ApiKeyRow = Selectable<ApiKeyTable>;
export type RefreshTokenRow = Selectable<RefreshTokenTable>;
export type EmailTokenRow = Selectable<EmailTokenTable>;
export type CredentialRevocationRow = Selectable<CredentialRevocationTable>;
export type OrganizationRow = Selectable<OrganizationTable>;
export type EntitlementRow = Selectable<EntitlementTable>;
export type MemberRow = Selectable<MemberTable>;
export type InvitationRow = Selectable<InvitationTable>;
export type SeatRow = Selectable<SeatTable>;
export type SeatAssignmentRow = Selectable<SeatAssignmentTable>;
export type EventLogRow = Selectable<EventLogTable>;
export type DeadLetterRow = Selectable<DeadLetterTable>;

export const PUBLIC_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS users (
  id uuid PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id),
  family_id uuid NOT NULL,
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family_id);
ALTER TABLE users ADD COLUMN IF NOT EXISTS email_verified_at timestamptz;
CREATE TABLE IF NOT EXISTS email_tokens (
  token_hash text PRIMARY KEY,
  purpose text NOT NULL,
  subject text NOT NULL,
  email text NOT NULL,
  org_id uuid,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS email_tokens_subject ON email_tokens (purpose, subject);
CREATE TABLE IF NOT EXISTS api_keys (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  name text NOT NULL,
  role text NOT NULL,
  secret_hash text NOT NULL,
  created_by uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX IF NOT EXISTS api_keys_org ON api_keys (org_id);
CREATE TABLE IF NOT EXISTS credential_revocations (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,
  subject text NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS credential_revocations_at ON credential_revocations (at);
CREATE TABLE IF NOT EXISTS used_join_tokens (
  jti uuid PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS used_join_tokens_expires ON used_join_tokens (expires_at);
CREATE TABLE IF NOT EXISTS projection_checkpoints (
  projection text NOT NULL,
  version integer NOT NULL,
  position bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (projection, version)
);
CREATE TABLE IF NOT EXISTS projection_active (
  projection text PRIMARY KEY,
  version integer NOT NULL,
  switched_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS projection_dead_letters (
  id bigserial PRIMARY KEY,
  projection text NOT NULL,
  version integer NOT NULL,
  event_id uuid NOT NULL,
  position bigint NOT NULL,
  type text NOT NULL,
  error text NOT NULL,
  attempts integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  resolution text,
  UNIQUE (projection, version, event_id)
);
CREATE TABLE IF NOT EXISTS relay_checkpoints (
  name text PRIMARY KEY,
  position bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
${METERING_SQL}
${OPERATORS_SQL}
${BILLING_SYNC_SQL}
${STRIPE_WEBHOOKS_SQL}
${WEBHOOK_SECRETS_SQL}
${WEBHOOK_DELIVERIES_SQL}`;

/** Schema name of a read-model version. */
export function readModelSchema(version: number): string {
  if (!Number.isInteger(version) || version < 1) throw new Error(`invalid read model version ${version}`);
  return `rm_v${version}`;
}

/** DDL of one read-model version, in its own schema. */
export function readModelSchemaSql(version: number): string {
  const s = readModelSchema(version);
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.organizations (
  org_id uuid PRIMARY KEY,
  name text NOT NULL,
  plan text NOT NULL,
  status text NOT NULL,
  trial_ends_at timestamptz,
  owner_user_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.entitlements (
  org_id uuid PRIMARY KEY,
  plan text NOT NULL,
  max_seats integer NOT NULL,
  max_participants_per_meeting integer NOT NULL,
  meeting_minutes_per_month integer,
  recording boolean NOT NULL,
  api_access boolean NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.members (
  org_id uuid NOT NULL,
  user_id uuid NOT NULL,
  email text NOT NULL,
  role text NOT NULL,
  joined_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, user_id)
);
CREATE INDEX IF NOT EXISTS members_user ON ${s}.members (user_id);
CREATE TABLE IF NOT EXISTS ${s}.invitations (
  invitation_id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  email text NOT NULL,
  role text NOT NULL,
  status text NOT NULL,
  invited_by uuid NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS invitations_org ON ${s}.invitations (org_id);
CREATE TABLE IF NOT EXISTS ${s}.seats (
  org_id uuid PRIMARY KEY,
  purchased integer NOT NULL,
  assigned integer NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.seat_assignments (
  org_id uuid NOT NULL,
  user_id uuid NOT NULL,
  assigned_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, user_id)
);
CREATE TABLE IF NOT EXISTS ${s}.meetings (
  session_id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  title text NOT NULL,
  host_user_id uuid NOT NULL,
  status text NOT NULL,
  locked boolean NOT NULL DEFAULT false,
  scheduled_for timestamptz,
  created_at timestamptz NOT NULL,
  started_at timestamptz,
  ended_at timestamptz,
  end_reason text,
  participants_now integer NOT NULL DEFAULT 0,
  peak_participants integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS meetings_org ON ${s}.meetings (org_id, created_at DESC);
CREATE TABLE IF NOT EXISTS ${s}.meeting_participants (
  session_id uuid NOT NULL,
  participant_id uuid NOT NULL,
  joined_at timestamptz NOT NULL,
  org_id uuid NOT NULL,
  display_name text NOT NULL,
  is_host boolean NOT NULL,
  left_at timestamptz,
  leave_reason text,
  node text,
  PRIMARY KEY (session_id, participant_id, joined_at)
);
ALTER TABLE ${s}.meeting_participants ADD COLUMN IF NOT EXISTS node text;
CREATE INDEX IF NOT EXISTS meeting_participants_live ON ${s}.meeting_participants (session_id) WHERE left_at IS NULL;
CREATE TABLE IF NOT EXISTS ${s}.event_log (
  org_id uuid NOT NULL,
  position bigint NOT NULL,
  event_id uuid NOT NULL,
  type text NOT NULL,
  stream_id text NOT NULL,
  revision bigint NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  occurred_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, position)
);
CREATE INDEX IF NOT EXISTS event_log_org_type ON ${s}.event_log (org_id, type, position);
${usageReadModelSql(s)}
${billingReadModelSql(s)}
${stripeReadModelSql(s)}
${webhooksReadModelSql(s)}`;
}

/** Creates the public tables; safe to run concurrently from several processes. */
export async function migratePublicSchema(sql: {
  transaction<T>(fn: (tx: { query(t: string): Promise<unknown> }) => Promise<T>): Promise<T>;
}): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('quorum:public_migrate'))`);
    for (const statement of PUBLIC_SCHEMA_SQL.split(';')
      .map((s) => s.trim())
      .filter(Boolean))
      await tx.query(statement);
  });
}

/** Creates one read-model version's schema and tables. */
export async function migrateReadModelSchema(
  sql: { transaction<T>(fn: (tx: { query(t: string): Promise<unknown> }) => Promise<T>): Promise<T> },
  version: number,
): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('quorum:rm_migrate'))`);
    for (const statement of readModelSchemaSql(version)
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean))
      await tx.query(statement);
  });
}
