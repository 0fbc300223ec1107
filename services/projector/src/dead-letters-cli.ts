/**
 * `npm run dead-letters -w @quorum/projector -- list | retry <id> | skip <id>`: the operator's
 * handle on events the projector could not apply. Needs `DATABASE_URL` (and `ESDB_URL` when
 * the event store is EventStoreDB). Safe while the projector runs: each action is one
 * transaction on the dead-letter row.
 */
import { createKysely, type Database } from '@quorum/db';
import { pino } from 'pino';
import { openConnections } from './connections';
import { listDeadLetters, retryDeadLetter, skipDeadLetter } from './dead-letters';
import { loadProjectorEnv } from './env';
import { CORE_PROJECTION } from './projections/core.projection';

const USAGE = 'usage: dead-letters list | retry <id> | skip <id>';
const [action, id] = process.argv.slice(2);
if (!action || (action !== 'list' && !id) || !['list', 'retry', 'skip'].includes(action)) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

const env = loadProjectorEnv();
const logger = pino({ name: 'projector-dead-letters', level: env.LOG_LEVEL });
const connections = await openConnections(env, 'quorum-projector-dead-letters');
const ctx = {
  db: createKysely<Database>(connections.sql),
  store: connections.store,
  logger,
  projection: CORE_PROJECTION,
};
try {
  if (action === 'list') {
    const letters = await listDeadLetters(ctx);
    if (letters.length === 0) process.stdout.write('no unresolved dead letters\n');
    for (const l of letters) {
      process.stdout.write(
        `${l.id}\tv${l.version}\t${l.position}\t${l.type}\t${l.event_id}\tattempts=${l.attempts}\t${l.error}\n`,
      );
    }
  } else if (action === 'retry') {
    await retryDeadLetter(ctx, id!);
    process.stdout.write(`dead letter ${id} applied and resolved\n`);
  } else {
    await skipDeadLetter(ctx, id!);
    process.stdout.write(`dead letter ${id} skipped\n`);
  }
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await connections.close();
}
