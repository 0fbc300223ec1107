/**
 * What a batch of events does to the read models, folded in memory into one final operation
 * per row key (insert, update, delete, replace), and the writing of those operations: one
 * statement per kind and table, its rows arriving as a single JSON parameter
 * (`jsonb_to_recordset`).
 */
import { assertUnreachable, type Plan, type SessionEvent } from '@quorum/domain';
import type {
  Database,
  InvitationTable,
  MemberTable,
  OrganizationTable,
  SeatAssignmentTable,
  WebhookEndpointTable,
} from '@quorum/db';
import { sql, type Insertable, type Transaction } from 'kysely';

export type Trx = Transaction<Database>;
/** A read-model table of the schema being written. */
export type TableOf = (name: string) => ReturnType<typeof sql.table>;

/**
 * The final operation on one keyed row after folding a batch. `insert` is insert-if-absent;
 * `pre` is an update that came before it (it only reaches a row that existed before the
 * batch), `post` one that came after (it reaches the row whichever way it got there).
 */
export type RowOp<Row> =
  | { kind: 'insert'; row: Row; pre?: Partial<Row>; post?: Partial<Row> }
  | { kind: 'replace'; row: Row }
  | { kind: 'update'; set: Partial<Row> }
  | { kind: 'delete' };

export type Op<Row> =
  { kind: 'insert' | 'upsert'; row: Row } | { kind: 'update'; set: Partial<Row> } | { kind: 'delete' };

/**
 * Folds one more operation onto what the batch already did to a row, exactly as applying
 * them in sequence would: `insert` is insert-if-absent, `upsert` overwrites, `update`
 * touches an existing row only, `delete` removes it.
 */
function fold<Row>(prev: RowOp<Row> | undefined, next: Op<Row>): RowOp<Row> {
  switch (next.kind) {
    case 'delete':
      return { kind: 'delete' };
    case 'upsert':
      return { kind: 'replace', row: next.row };
    case 'insert':
      if (prev === undefined) return { kind: 'insert', row: next.row };
      // After a delete in this batch the row is certainly absent: the insert lands.
      if (prev.kind === 'delete') return { kind: 'replace', row: next.row };
      // The row already exists: insert-if-absent does nothing.
      if (prev.kind === 'insert' || prev.kind === 'replace') return prev;
      return { kind: 'insert', row: next.row, pre: prev.set };
    case 'update':
      if (prev === undefined) return { kind: 'update', set: next.set };
      if (prev.kind === 'delete') return prev;
      if (prev.kind === 'update') return { kind: 'update', set: { ...prev.set, ...next.set } };
      if (prev.kind === 'replace') return { kind: 'replace', row: { ...prev.row, ...next.set } };
      return { ...prev, post: { ...prev.post, ...next.set } };
    default:
      return assertUnreachable(next);
  }
}

/**
 * Rows as the projection writes them: the `packages/db` table's insert shape, timestamps
 * given as the envelope's ISO strings.
 */
export type OrganizationInsert = Insertable<OrganizationTable>;
export type MemberInsert = Insertable<MemberTable>;
export type InvitationInsert = Insertable<InvitationTable>;
export type SeatAssignmentInsert = Insertable<SeatAssignmentTable>;
export type WebhookEndpointInsert = Insertable<WebhookEndpointTable>;

/** What a batch does, keyed by row. */
export class WritePlan {
  readonly orgs = new Map<string, RowOp<OrganizationInsert>>();
  readonly plans = new Map<string, Plan>();
  readonly seatsTouched = new Set<string>();
  readonly purchased = new Map<string, number>();
  readonly members = new Map<string, RowOp<MemberInsert>>();
  readonly invitations = new Map<string, RowOp<InvitationInsert>>();
  readonly assignments = new Map<string, RowOp<SeatAssignmentInsert>>();
  readonly endpoints = new Map<string, RowOp<WebhookEndpointInsert>>();
  /** Session (meeting) events in order; few per batch, applied one statement or two each. */
  readonly sessionEvents: Array<{ orgId: string; streamId: string; at: string; event: SessionEvent }> = [];

  org(orgId: string, op: Op<OrganizationInsert>) {
    this.orgs.set(orgId, fold(this.orgs.get(orgId), op));
  }
  member(orgId: string, userId: string, op: Op<MemberInsert>) {
    const key = `${orgId}|${userId}`;
    this.members.set(key, fold(this.members.get(key), op));
  }
  invitation(id: string, op: Op<InvitationInsert>) {
    this.invitations.set(id, fold(this.invitations.get(id), op));
  }
  assignment(orgId: string, userId: string, op: Op<SeatAssignmentInsert>) {
    const key = `${orgId}|${userId}`;
    this.assignments.set(key, fold(this.assignments.get(key), op));
    this.seatsTouched.add(orgId);
  }
  endpoint(endpointId: string, op: Op<WebhookEndpointInsert>) {
    this.endpoints.set(endpointId, fold(this.endpoints.get(endpointId), op));
  }
}

export const json = (rows: unknown[]) => JSON.stringify(rows);

/**
 * Writes the final operation of each key: updates that precede an insert, deletes (also the
 * delete half of a replace), inserts-if-absent, upserts of replaced rows, then the remaining
 * updates. Keys are distinct, so statements of different kinds never touch the same row
 * except an insert's own `pre`/`post`, which run in their order.
 */
export async function flushKeyed<Row extends object>(
  trx: Trx,
  table: ReturnType<typeof sql.table>,
  ops: Map<string, RowOp<Row>>,
  key: string[],
  shape: { columns: string; upsertSet: string; updateColumns: Record<string, string> },
): Promise<void> {
  if (ops.size === 0) return;
  const inserts: Row[] = [];
  const replaces: Row[] = [];
  const deletes: Record<string, string>[] = [];
  const pre = new Map<string, Array<Record<string, unknown>>>();
  const post = new Map<string, Array<Record<string, unknown>>>();
  const addUpdate = (into: typeof pre, keyValues: Record<string, string>, set: object) => {
    const cols = Object.keys(set).sort();
    for (const c of cols) if (!(c in shape.updateColumns)) throw new Error(`no update path for column ${c}`);
    const group = cols.join(',');
    into.set(group, [...(into.get(group) ?? []), { ...keyValues, ...set }]);
  };
  for (const [k, op] of ops) {
    const parts = k.split('|');
    const keyValues = Object.fromEntries(key.map((name, i) => [name, parts[i]!]));
    switch (op.kind) {
      case 'insert':
        if (op.pre) addUpdate(pre, keyValues, op.pre);
        inserts.push(op.row);
        if (op.post) addUpdate(post, keyValues, op.post);
        break;
      case 'replace':
        replaces.push(op.row);
        break;
      case 'delete':
        deletes.push(keyValues);
        break;
      case 'update':
        addUpdate(post, keyValues, op.set);
        break;
      default:
        assertUnreachable(op);
    }
  }
  const keyCols = key.join(', ');
  const names = shape.columns
    .split(',')
    .map((c) => c.trim().split(' ')[0]!)
    .join(', ');
  const keyTypes = key.map((k) => `${k} ${k === 'id' || k.endsWith('_id') ? 'uuid' : 'text'}`).join(', ');
  const keyMatch = key.map((k) => `t.${k} = v.${k}`).join(' AND ');
  const runUpdates = async (groups: typeof pre) => {
    for (const [columns, rows] of groups) {
      const cols = columns.split(',');
      const types = cols.map((c) => `${c} ${shape.updateColumns[c]}`).join(', ');
      const assignments = cols.map((c) => `${c} = v.${c}`).join(', ');
      await sql`UPDATE ${table} AS t SET ${sql.raw(assignments)}
                  FROM jsonb_to_recordset(${json(rows)}::jsonb) AS v(${sql.raw(`${keyTypes}, ${types}`)})
                 WHERE ${sql.raw(keyMatch)}`.execute(trx);
    }
  };
  await runUpdates(pre);
  if (deletes.length > 0) {
    await sql`DELETE FROM ${table} AS t USING jsonb_to_recordset(${json(deletes)}::jsonb) AS v(${sql.raw(keyTypes)})
               WHERE ${sql.raw(keyMatch)}`.execute(trx);
  }
  if (inserts.length > 0) {
    await sql`INSERT INTO ${table} (${sql.raw(names)}) SELECT ${sql.raw(names)} FROM jsonb_to_recordset(${json(inserts)}::jsonb) AS v(${sql.raw(shape.columns)})
               ON CONFLICT (${sql.raw(keyCols)}) DO NOTHING`.execute(trx);
  }
  if (replaces.length > 0) {
    await sql`INSERT INTO ${table} (${sql.raw(names)}) SELECT ${sql.raw(names)} FROM jsonb_to_recordset(${json(replaces)}::jsonb) AS v(${sql.raw(shape.columns)})
               ON CONFLICT (${sql.raw(keyCols)}) DO UPDATE SET ${sql.raw(shape.upsertSet)}`.execute(trx);
  }
  await runUpdates(post);
}
