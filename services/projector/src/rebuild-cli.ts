/**
 * `npm run rebuild -w @quorum/projector` (or `node --import tsx src/rebuild-cli.ts`): rebuilds
 * the core projection into a new version and switches reads to it. Needs `DATABASE_URL`;
 * `REBUILD_BATCH_SIZE`, `REBUILD_PARTITIONS` and `REBUILD_VERSION` are optional.
 */
import { pino } from 'pino';
import { openConnections } from './connections';
import { loadProjectorEnv } from './env';
import { rebuildProjection } from './rebuild';

const env = loadProjectorEnv();
const logger = pino({ name: 'projector-rebuild', level: env.LOG_LEVEL });
const connections = await openConnections(env, 'quorum-projector-rebuild');
try {
  const result = await rebuildProjection({
    sql: connections.sql,
    store: connections.store,
    logger,
    batchSize: env.REBUILD_BATCH_SIZE,
    partitions: env.REBUILD_PARTITIONS,
    ...(env.REBUILD_VERSION !== undefined ? { version: env.REBUILD_VERSION } : {}),
  });
  process.stdout.write(
    `rebuilt core v${result.previousVersion} -> v${result.version}: ${result.events} events in ${(result.durationMs / 1_000).toFixed(2)} s ` +
      `(${result.eventsPerSecond} events/s), checkpoint ${result.checkpoint}, ${result.deadLetters} dead letters\n`,
  );
} catch (err) {
  logger.fatal({ err }, 'rebuild failed');
  process.exitCode = 1;
} finally {
  await connections.close();
}
