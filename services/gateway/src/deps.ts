import type { EventStore } from '@quorum/eventstore';
import type { Logger } from 'pino';
import type { ApiKeysService } from './api-keys/api-keys.service';
import type { AuthRateLimiters } from './auth/auth-rate-limits';
import type { AuthService } from './auth/auth.service';
import type { CommandHandler } from './commands/command-handler';
import type { ReadModels } from './read/read-models.repository';

export interface HealthReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: unknown }>;
}

/** Everything the procedures use; `main.ts` composes it. */
export interface GatewayDeps {
  store: EventStore;
  commands: CommandHandler;
  auth: AuthService;
  apiKeys: ApiKeysService;
  /** Login and sign-up limits (in-process, or Redis shared by every gateway). */
  rateLimits: AuthRateLimiters;
  read: ReadModels;
  now: () => Date;
  logger: Logger;
  /**
   * Read-your-writes: resolves true once the projection has applied `position` (a mutation's
   * answer, passed back as `minPosition`), false after `timeoutMs`.
   */
  waitForPosition(position: bigint, timeoutMs: number): Promise<boolean>;
  /**
   * Subscribes to "the projection advanced" (the all-in-one process wires the projector's
   * `onAdvance`); returns the unsubscribe. Absent, live feeds poll the read model instead.
   */
  onProjected?: (listener: () => void) => () => void;
  /** How long a query waits for `minPosition` before answering TIMEOUT. */
  readWaitTimeoutMs: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Whether cookies get the `Secure` flag (behind TLS). */
  secureCookies: boolean;
  health(): Promise<HealthReport>;
}
