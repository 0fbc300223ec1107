import type pg from 'pg';

/**
 * The active `core` projection's checkpoint, as the bench's lag probes poll it every 2 ms. A
 * prepared (named) statement: sent unnamed, 500 polls/s were a third of Postgres's own CPU at
 * 250 commands/s, the instrument weighing on what it measures.
 */
export async function readCoreCheckpoint(client: pg.Client): Promise<bigint> {
  const { rows } = await client.query<{ position: string }>({
    name: 'bench_lag_probe',
    text: `SELECT c.position FROM projection_checkpoints c JOIN projection_active a ON a.projection = c.projection AND a.version = c.version WHERE c.projection = 'core'`,
  });
  return rows[0] ? BigInt(rows[0].position) : 0n;
}
