/** The `seat_assignments` and `seats` read models, from seat events. */
import { sql } from 'kysely';
import { assertUnreachable, type SeatsEvent } from '@quorum/domain';
import { flushKeyed, json, type TableOf, type Trx, type WritePlan } from './write-plan';

export function planSeats(w: WritePlan, orgId: string, at: string, event: SeatsEvent): void {
  switch (event.type) {
    case 'seats.purchased':
    case 'seats.released':
      w.purchased.set(orgId, event.data.total);
      w.seatsTouched.add(orgId);
      return;
    case 'seat.assigned':
      w.assignment(orgId, event.data.userId, {
        kind: 'insert',
        row: { org_id: orgId, user_id: event.data.userId, assigned_at: at },
      });
      return;
    case 'seat.unassigned':
      w.assignment(orgId, event.data.userId, { kind: 'delete' });
      return;
    default:
      return assertUnreachable(event);
  }
}

export async function flushSeats(trx: Trx, t: TableOf, w: WritePlan): Promise<void> {
  await flushKeyed(trx, t('seat_assignments'), w.assignments, ['org_id', 'user_id'], {
    columns: 'org_id uuid, user_id uuid, assigned_at timestamptz',
    upsertSet: 'assigned_at = EXCLUDED.assigned_at',
    updateColumns: {},
  });

  if (w.seatsTouched.size > 0) {
    const rows = [...w.seatsTouched].map((org_id) => ({ org_id, purchased: w.purchased.get(org_id) ?? null }));
    // One statement: update the organizations that have a row, insert the others. `assigned`
    // is recounted, not incremented, so a repeated assignment cannot inflate it; a null
    // `purchased` (only assignments changed) keeps the stored count.
    await sql`
      WITH v AS (
        SELECT * FROM jsonb_to_recordset(${json(rows)}::jsonb) AS v(org_id uuid, purchased integer)
      ), updated AS (
        UPDATE ${t('seats')} AS s
           SET purchased = COALESCE(v.purchased, s.purchased),
               assigned = (SELECT count(*) FROM ${t('seat_assignments')} a WHERE a.org_id = s.org_id)
          FROM v
         WHERE s.org_id = v.org_id
        RETURNING s.org_id
      )
      INSERT INTO ${t('seats')} (org_id, purchased, assigned)
      SELECT v.org_id, COALESCE(v.purchased, 0), (SELECT count(*) FROM ${t('seat_assignments')} a WHERE a.org_id = v.org_id)
        FROM v
       WHERE v.org_id NOT IN (SELECT org_id FROM updated)
      ON CONFLICT (org_id) DO NOTHING`.execute(trx);
  }
}
