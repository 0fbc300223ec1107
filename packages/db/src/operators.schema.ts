/**
 * Quorum's own operators (its finance team), granted and revoked from the gateway's command
 * line (`npm run operators -w @quorum/gateway`), never by a request. A grant is a row; a
 * revocation sets `revoked_at` on it, so the table is also the history of who was an operator,
 * since when and on whose word. At most one grant of a user is open at a time.
 */
import type { ColumnType, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface OperatorTable {
  id: ColumnType<string, never, never>;
  user_id: string;
  granted_at: GeneratedTimestamp;
  /** Who granted it: the name given to the command line (`--by`), or the account that ran it. */
  granted_by: string;
  revoked_at: Timestamp | null;
  revoked_by: string | null;
}

export type OperatorRow = Selectable<OperatorTable>;

/** DDL of the operators table, in the public schema. */
export const OPERATORS_SQL = `
CREATE TABLE IF NOT EXISTS operators (
  id bigserial PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id),
  granted_at timestamptz NOT NULL DEFAULT now(),
  granted_by text NOT NULL,
  revoked_at timestamptz,
  revoked_by text
);
CREATE UNIQUE INDEX IF NOT EXISTS operators_open ON operators (user_id) WHERE revoked_at IS NULL;
`;
