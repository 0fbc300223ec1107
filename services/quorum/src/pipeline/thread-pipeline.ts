/**
 * Runs the pipeline (relay and projector) on a worker thread of this process and answers
 * for it here: read-your-writes waits settle on the worker's `advanced` messages, with no
 * polling; readiness is asked for and answered by message.
 */
import { Worker } from 'node:worker_threads';
import { ProjectionWaiter } from '@quorum/projector/wait';
import type { Logger } from 'pino';
import type { QuorumEnv } from '../env';
import type { Pipeline, ReadinessChecks } from './pipeline';
import type { MainMessage, WorkerMessage } from './pipeline-messages';

/**
 * The worker's module. Compiled (`npm run build`), this module is bundled into dist/main.js and
 * the worker is dist/pipeline-worker.js beside it; run from source (tsx, tests), the worker first
 * registers the TypeScript loader, which worker threads do not inherit.
 */
function workerEntry(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('./pipeline-worker.entry.mjs', import.meta.url)
    : new URL('./pipeline-worker.js', import.meta.url);
}

export async function startThreadPipeline(env: QuorumEnv, logger: Logger): Promise<Pipeline> {
  const worker = new Worker(workerEntry(), { workerData: env });
  const send = (message: MainMessage) => worker.postMessage(message);
  const listeners = new Set<() => void>();
  const projected = new ProjectionWaiter();
  const readinessRequests = new Map<number, (checks: ReadinessChecks) => void>();
  let nextId = 1;
  let failure: string | undefined;
  let onClosed: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  let hintPending = false;

  const started = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'ready':
          projected.advance(BigInt(message.position));
          resolve();
          return;
        case 'fatal':
          failure = message.message;
          reject(new Error(`the pipeline worker could not start: ${message.message}`));
          return;
        case 'advanced': {
          const p = BigInt(message.position);
          if (p > projected.position) projected.advance(p);
          for (const listener of listeners) listener();
          return;
        }
        case 'readiness':
          readinessRequests.get(message.id)?.(message.checks);
          readinessRequests.delete(message.id);
          return;
        case 'closed':
          onClosed?.();
          return;
      }
    });
    worker.on('error', (err) => {
      failure = err.message;
      logger.error({ err }, 'pipeline worker failed');
      reject(err);
    });
    worker.on('exit', (code) => {
      if (closing) return;
      failure ??= `exited with code ${code}`;
      logger.error({ code }, 'pipeline worker exited; events are no longer relayed or projected');
      projected.close();
      reject(new Error(`the pipeline worker exited with code ${code}`));
    });
  });
  try {
    await started;
  } catch (err) {
    await worker.terminate();
    throw err;
  }

  return {
    waitForPosition(target, timeoutMs) {
      if (failure) return Promise.resolve(projected.position >= target);
      return projected.wait(target, timeoutMs);
    },
    appended() {
      // One hint per turn of the event loop, however many appends it saw.
      if (hintPending || closing) return;
      hintPending = true;
      setImmediate(() => {
        hintPending = false;
        send({ type: 'appended' });
      });
    },
    onAdvance(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async readiness() {
      if (failure) return { pipeline: { ok: false, detail: failure } };
      const id = nextId++;
      const answer = new Promise<ReadinessChecks>((resolve) => readinessRequests.set(id, resolve));
      send({ type: 'readiness', id });
      const timeout = new Promise<ReadinessChecks>((resolve) =>
        setTimeout(
          () => resolve({ pipeline: { ok: false, detail: 'the pipeline worker did not answer within 2 s' } }),
          2_000,
        ).unref(),
      );
      return Promise.race([answer, timeout]);
    },
    close() {
      closing ??= (async () => {
        projected.close();
        if (!failure) {
          const closed = new Promise<void>((resolve) => (onClosed = resolve));
          send({ type: 'close' });
          await Promise.race([closed, new Promise((r) => setTimeout(r, 15_000).unref())]);
        }
        await worker.terminate();
      })();
      return closing;
    },
  };
}
