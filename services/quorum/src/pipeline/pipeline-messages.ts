import type { ReadinessChecks } from './pipeline';

/** From the main thread to the pipeline worker. */
export type MainMessage = { type: 'readiness'; id: number } | { type: 'close' } | { type: 'appended' };

/** From the pipeline worker to the main thread; positions are decimal strings. */
export type WorkerMessage =
  | { type: 'ready'; position: string }
  | { type: 'advanced'; position: string }
  | { type: 'readiness'; id: number; checks: ReadinessChecks }
  | { type: 'closed' }
  | { type: 'fatal'; message: string };
