import pg from 'pg';

/**
 * The Postgres the integration tier runs against: `DATABASE_URL`, or the one
 * `scripts/services.sh` starts. Fails (never skips) when it is not reachable.
 */
export async function connectTestPostgres(): Promise<string> {
  const url = process.env.DATABASE_URL ?? 'postgres://quorum:quorum@127.0.0.1:5432/quorum_test';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${url} (${(err as Error).message}); run scripts/services.sh`, {
      cause: err,
    });
  } finally {
    // A client that never connected has nothing to end; end() then rejects harmlessly.
    await client.end().catch((err: Error) => process.emitWarning(`closing probe client: ${err.message}`));
  }
  return url;
}
