/**
 * Composition root of the media layer's integration tests and the SFU benchmark: the only env
 * reads under src/media. mediasoup takes its worker binary from `MEDIASOUP_WORKER_BIN` when its
 * module loads, so that variable must be set before the test process starts; this only checks it
 * and fails (never skips) with how to get a worker.
 */
import { accessSync, constants } from 'node:fs';
import { pino, type Logger } from 'pino';

const HOW_TO =
  'run: export MEDIASOUP_WORKER_BIN="$(scripts/mediasoup-worker.sh)" ' +
  '(builds the worker into ~/.cache/quorum the first time, about 3 minutes; `npm test` does this for you)';

/** The worker binary from `MEDIASOUP_WORKER_BIN`; throws with instructions if unset or not executable. */
export function requireMediasoupWorkerBin(): string {
  const bin = process.env.MEDIASOUP_WORKER_BIN;
  if (!bin) throw new Error(`MEDIASOUP_WORKER_BIN is not set, so mediasoup has no worker binary; ${HOW_TO}`);
  try {
    accessSync(bin, constants.X_OK);
  } catch (err) {
    throw new Error(`MEDIASOUP_WORKER_BIN=${bin} is not an executable file; ${HOW_TO}`, { cause: err });
  }
  return bin;
}

/** Silent unless LOG_LEVEL is set (e.g. LOG_LEVEL=debug to see placements and pipes). */
export function testLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'silent' });
}
