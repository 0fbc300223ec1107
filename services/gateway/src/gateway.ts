/**
 * Builds the gateway from its dependencies; `main.ts` (standalone) and the all-in-one
 * process (`services/quorum`) both use it.
 */
import { createHmac } from 'node:crypto';
import { createKysely, type Database, type SqlDatabase } from '@quorum/db';
import type { EventStore } from '@quorum/eventstore';
import type { Logger } from 'pino';
import { ApiKeysRepository } from './api-keys/api-keys.repository';
import { ApiKeysService } from './api-keys/api-keys.service';
import { createMemoryAuthRateLimiters, type AuthRateLimiters } from './auth/auth-rate-limits';
import { AuthRepository } from './auth/auth.repository';
import { AuthService } from './auth/auth.service';
import { CredentialGuard } from './auth/credential-guard';
import { RevocationsRepository } from './auth/revocations.repository';
import { BillingRepository } from './billing/billing.repository';
import { startDunningSweeper, type DunningSweeper } from './billing/dunning-sweeper';
import { StripeWebhookHandler } from './billing/stripe-webhook.handler';
import { createStripeWebhookRoute, STRIPE_WEBHOOK_PATH } from './billing/stripe-webhook.route';
import { StripeWebhooksRepository } from './billing/stripe-webhooks.repository';
import { EmailTokensRepository } from './email/email-tokens.repository';
import { EmailTokensService } from './email/email-tokens.service';
import { createEventTails, DEFAULT_EVENT_TAIL_SETTINGS, type EventTailSettings } from './events/events.tail';
import { JoinTokensRepository } from './meetings/join-tokens.repository';
import { MeetingMinutesReader } from './meetings/meeting-minutes';
import type { Mailer } from '@quorum/mail';
import { CommandHandler } from './commands/command-handler';
import type { GatewayDeps, HealthReport, MeetingsConfig } from './deps';
import type { Placement } from '@quorum/placement';
import { startEmptyMeetingSweeper, type EmptyMeetingSweeper } from './meetings/empty-sweeper';
import { startLostNodeSweeper, type LostNodeSweeper } from './meetings/lost-node-sweeper';
import { createGatewayServer, type GatewayServer, type GatewayServerOptions } from './http/server';
import { BillingSyncRepository } from './finance/billing-sync.repository';
import { FinanceRepository } from './finance/finance.repository';
import { WebhookDeliveriesRepository } from './webhooks/deliveries.repository';
import { createFinanceExportRoute, FINANCE_EXPORT_PATH } from './finance/finance-export.route';
import { OperatorAccess } from './operators/operator-access';
import { OperatorsRepository } from './operators/operators.repository';
import { ReadModels } from './read/read-models.repository';
import { createUsageExportRoute, USAGE_EXPORT_PATH } from './usage/usage-export.route';
import { UsageRepository } from './usage/usage.repository';
import { WebhooksRepository } from './webhooks/webhooks.repository';
import { createWebhookSender, type OutboundPolicy, type Resolver } from '@quorum/webhooks';

export type { MeetingsConfig } from './deps';
export { signalingFromPlacement } from './meetings/meetings.handler';
export { createMemoryV1RateLimiter, v1RateLimitOptions } from './v1/v1-rate-limit';
export {
  AUTH_RATE_LIMITS,
  authRateLimitOptions,
  createMemoryAuthRateLimiters,
  type AuthRateLimiters,
  type AuthRateLimitOptions,
} from './auth/auth-rate-limits';

export interface GatewayOptions {
  sql: SqlDatabase;
  store: EventStore;
  logger: Logger;
  /** HMAC key of access tokens; at least 32 characters. */
  authSecret: string;
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  readWaitTimeoutMs?: number;
  /** Every request comes over TLS (cookies `Secure`, HSTS); see `trustProxy` for a per-request answer. */
  secureCookies?: boolean;
  /** Believe `X-Forwarded-Proto` (a proxy in front sets it): `https` makes cookies `Secure` and turns HSTS on. */
  trustProxy?: boolean;
  /** Built web app to serve at `/`. */
  staticDir?: string;
  /** Origins besides this one the web app may connect to (Content-Security-Policy `connect-src`): SFU signaling on other hosts. */
  connectSources?: readonly string[];
  /** Read-your-writes wait; the projector's `waitForPosition`, or `waitForProjection` from another process. */
  waitForPosition: GatewayDeps['waitForPosition'];
  /** Wakes live feeds (`events.live`) when the projection advances; they poll every second without it. */
  onProjected?: GatewayDeps['onProjected'];
  /** How much of each followed organization's recent log live feeds share; `DEFAULT_EVENT_TAIL_SETTINGS` when absent. */
  eventTail?: EventTailSettings;
  /**
   * Login and sign-up limiters (see `authRateLimitOptions`); in-process defaults when absent,
   * which count per process, so pass Redis ones when several gateways run.
   */
  rateLimiter?: AuthRateLimiters;
  /**
   * `/v1`: the per-credential rate limiter (`v1RateLimitOptions`; in-process at 600 a minute
   * when absent) and the event stream's heartbeat and slow-consumer bound.
   */
  v1?: GatewayServerOptions['v1'];
  /** Extra readiness checks (projector, bus) merged into `/health/ready`. */
  readiness?: () => Promise<HealthReport['checks']>;
  /** Meetings (join tokens, signaling placement); without it `meetings.join` is refused. */
  meetings?: MeetingsConfig;
  /** How often empty meetings are swept (ended after `meetings.emptyGraceMs`); 15 s by default, 0: only on `sweeper.sweep()`. */
  emptySweepIntervalMs?: number;
  /**
   * Records the leaves of participants whose SFU node run died (see `lost-node-sweeper.ts`):
   * the placement the nodes heartbeat into, how long a run must be silent (`graceMs`), how often
   * to look (`intervalMs`, 15 s by default; 0: only on `lostNodeSweeper.sweep()`).
   */
  lostNodes?: { placement: Placement; graceMs: number; intervalMs?: number };
  /** Where sign-up verification and invitation mail goes (SMTP, or a directory in development). */
  mailer: Mailer;
  /** Base URL of links in mail; absent, the address each request came to. */
  publicUrl?: string;
  /**
   * Quorum's operators named in configuration (`QUORUM_OPERATORS`): user ids, or addresses that
   * count once verified. Others are granted from the command line (`operators-cli.ts`).
   */
  operators?: readonly string[];
  /**
   * Stripe connected (`STRIPE_WEBHOOK_SECRET`): `POST /webhooks/stripe` checks deliveries with
   * `webhookSecret`, and dunning suspends organizations past due longer than `pastDueGraceMs`,
   * looking every `dunningIntervalMs` (0: only on `dunningSweeper.sweep()`). Without it the route
   * answers 404 and nothing is swept.
   */
  stripe?: { webhookSecret: string; pastDueGraceMs: number; dunningIntervalMs: number };
  /**
   * Whether billing is synced with Stripe (the all-in-one process: `STRIPE_SECRET_KEY` is set);
   * absent, Stripe counts as connected when its webhooks are (`stripe`). The console says so.
   */
  stripeSync?: boolean;
  /**
   * What webhook endpoints may point at (`WEBHOOK_ALLOW_HTTP`, `WEBHOOK_ALLOW_LOOPBACK`): https
   * and public addresses only when absent. `resolve` replaces the system's DNS (tests).
   */
  webhooks?: { policy: OutboundPolicy; resolve?: Resolver };
  /** How often the shared credential revocation log is read (1 s by default): the longest a revocation made on another gateway takes to hold here. */
  revocationPollMs?: number;
  now?: () => Date;
}

export interface Gateway {
  deps: GatewayDeps;
  http: GatewayServer;
  /** Ends meetings left empty past the grace period; present when meetings are configured. */
  sweeper: EmptyMeetingSweeper | undefined;
  /** Records leaves for participants of dead SFU node runs; present with `lostNodes`. */
  lostNodeSweeper: LostNodeSweeper | undefined;
  /** Suspends organizations past due beyond the grace; present when Stripe is connected. */
  dunningSweeper: DunningSweeper | undefined;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  if (options.authSecret.length < 32) throw new Error('authSecret must have at least 32 characters');
  const now = options.now ?? (() => new Date());
  const db = createKysely<Database>(options.sql);
  const accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? 900;
  const refreshTokenTtlSeconds = options.refreshTokenTtlSeconds ?? 30 * 86_400;
  const read = new ReadModels(db);
  const credentials = await CredentialGuard.start(new RevocationsRepository(db), {
    accessTokenTtlSeconds,
    logger: options.logger.child({ component: 'credential-guard' }),
    now,
    ...(options.revocationPollMs !== undefined ? { pollMs: options.revocationPollMs } : {}),
  });
  const webhookPolicy = options.webhooks?.policy ?? { allowHttp: false, allowLoopback: false };
  const webhookResolve = options.webhooks?.resolve;
  const webhookSender = createWebhookSender({
    policy: webhookPolicy,
    ...(webhookResolve ? { resolve: webhookResolve } : {}),
  });
  const deps: GatewayDeps = {
    store: options.store,
    commands: new CommandHandler(options.store),
    auth: new AuthService(
      new AuthRepository(db),
      {
        secret: options.authSecret,
        accessTokenTtlSeconds,
        refreshTokenTtlSeconds,
        onLoginRevoked: (familyId) => credentials.applied([{ kind: 'login', subject: familyId }]),
      },
      now,
    ),
    credentials,
    // Its own key, derived from the auth secret, so the two uses never share one.
    emailTokens: new EmailTokensService(
      new EmailTokensRepository(db),
      now,
      createHmac('sha256', options.authSecret).update('quorum:email-tokens').digest('base64url'),
    ),
    mailer: options.mailer,
    joinTokens: new JoinTokensRepository(db),
    meetingMinutes: new MeetingMinutesReader(options.store),
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    apiKeys: new ApiKeysService(new ApiKeysRepository(db), now, (keyId) =>
      credentials.applied([{ kind: 'apiKey', subject: keyId }]),
    ),
    rateLimits: options.rateLimiter ?? createMemoryAuthRateLimiters(undefined, () => now().getTime()),
    read,
    usage: new UsageRepository(db, () => read.activeVersion()),
    billing: new BillingRepository(db, () => read.activeVersion()),
    operators: new OperatorAccess(new OperatorsRepository(db), options.operators),
    finance: new FinanceRepository(db, () => read.activeVersion()),
    billingSync: new BillingSyncRepository(db, () => read.activeVersion()),
    webhookDeliveries: new WebhookDeliveriesRepository(db, options.sql),
    stripeConnected: options.stripeSync ?? options.stripe !== undefined,
    webhooks: {
      repository: new WebhooksRepository(db, () => read.activeVersion()),
      policy: webhookPolicy,
      ...(webhookResolve ? { resolve: webhookResolve } : {}),
      sender: webhookSender,
    },
    ...(options.meetings ? { meetings: options.meetings } : {}),
    waitForPosition: options.waitForPosition,
    ...(options.onProjected ? { onProjected: options.onProjected } : {}),
    eventTails: createEventTails({
      ...(options.eventTail ?? DEFAULT_EVENT_TAIL_SETTINGS),
      read,
      ...(options.onProjected ? { onProjected: options.onProjected } : {}),
      logger: options.logger.child({ component: 'event-tail' }),
    }),
    now,
    logger: options.logger,
    readWaitTimeoutMs: options.readWaitTimeoutMs ?? 5_000,
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds,
    secureCookies: options.secureCookies ?? false,
    trustProxy: options.trustProxy ?? false,
    async health() {
      const checks: HealthReport['checks'] = {};
      try {
        await read.ping();
        checks.database = { ok: true };
      } catch (err) {
        checks.database = { ok: false, detail: (err as Error).message };
      }
      try {
        checks.eventStore = { ok: true, detail: { head: (await options.store.headPosition()).toString() } };
      } catch (err) {
        checks.eventStore = { ok: false, detail: (err as Error).message };
      }
      if (options.readiness) Object.assign(checks, await options.readiness());
      return { ready: Object.values(checks).every((c) => c.ok), checks };
    },
  };
  const sweeper = options.meetings
    ? startEmptyMeetingSweeper(deps, {
        graceMs: options.meetings.emptyGraceMs,
        intervalMs: options.emptySweepIntervalMs ?? 15_000,
      })
    : undefined;
  const lostNodeSweeper = options.lostNodes
    ? startLostNodeSweeper(deps, {
        placement: options.lostNodes.placement,
        graceMs: options.lostNodes.graceMs,
        intervalMs: options.lostNodes.intervalMs ?? 15_000,
      })
    : undefined;
  const stripeWebhooks = new StripeWebhooksRepository(db, () => read.activeVersion());
  const stripeLog = options.logger.child({ component: 'stripe-webhooks' });
  const dunningSweeper = options.stripe
    ? startDunningSweeper(
        { commands: deps.commands, repository: stripeWebhooks, logger: options.logger, now },
        { graceMs: options.stripe.pastDueGraceMs, intervalMs: options.stripe.dunningIntervalMs },
      )
    : undefined;
  if (!options.stripe)
    stripeLog.info('Stripe is not connected (no STRIPE_WEBHOOK_SECRET): /webhooks/stripe answers 404');
  const server = createGatewayServer(deps, {
    ...(options.staticDir ? { staticDir: options.staticDir } : {}),
    ...(options.connectSources ? { connectSources: options.connectSources } : {}),
    ...(options.v1 ? { v1: options.v1 } : {}),
    beforeClose: async () => {
      await Promise.all([sweeper?.stop(), lostNodeSweeper?.stop(), dunningSweeper?.stop()]);
    },
    afterClose: async () => {
      webhookSender.close();
      await credentials.close();
    },
  });
  server.routeRequest(USAGE_EXPORT_PATH, createUsageExportRoute(deps));
  server.routeRequest(FINANCE_EXPORT_PATH, createFinanceExportRoute(deps));
  server.routeRequest(
    STRIPE_WEBHOOK_PATH,
    createStripeWebhookRoute(
      options.stripe
        ? new StripeWebhookHandler({
            secret: options.stripe.webhookSecret,
            commands: deps.commands,
            repository: stripeWebhooks,
            logger: stripeLog,
            now,
          })
        : undefined,
      stripeLog,
    ),
  );
  return { deps, http: server, sweeper, lostNodeSweeper, dunningSweeper };
}
