/**
 * The stack's floor, a child process of the bench: tRPC's own standalone HTTP server
 * (`@trpc/server/adapters/standalone`) with one mutation, `purchase`, whose input a zod schema
 * checks and which runs one prepared INSERT into PostgreSQL (`pg`, a pool of 4) and answers the
 * new row's id. No authentication, no event store, no bus: what any command over this stack
 * costs at the least. Run as Quorum is (`node --import tsx`), so both pay the same loader.
 *
 *   DATABASE_URL=postgres://… PORT=4010 node --import tsx load-tests/bench/stack-floor-server.ts
 *
 * Prints `listening <port>` once it answers.
 */
import { initTRPC } from '@trpc/server';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import pg from 'pg';
import { z } from 'zod';

const url = process.env.DATABASE_URL;
const port = Number(process.env.PORT);
if (!url || !Number.isInteger(port) || port < 1 || port > 65_535) {
  process.stderr.write('stack-floor-server: DATABASE_URL and PORT (1 to 65535) are required\n');
  process.exit(2);
}

const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'quorum-bench-floor' });
await pool.query(`CREATE TABLE IF NOT EXISTS floor_commands (
  id bigserial PRIMARY KEY,
  org_id uuid NOT NULL,
  body jsonb NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
)`);

const t = initTRPC.create();
const router = t.router({
  purchase: t.procedure
    .input(z.object({ orgId: z.string().uuid(), quantity: z.number().int().min(1).max(1_000) }))
    .mutation(async ({ input }) => {
      const { rows } = await pool.query<{ id: string }>({
        name: 'floor_insert',
        text: 'INSERT INTO floor_commands (org_id, body) VALUES ($1, $2) RETURNING id',
        values: [input.orgId, JSON.stringify(input)],
      });
      return { position: rows[0]!.id };
    }),
});

const server = createHTTPServer({ router, basePath: '/trpc/' });
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));

const stop = () => {
  server.close();
  void pool.end().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
