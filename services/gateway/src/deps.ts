import type { EventStore } from '@quorum/eventstore';
import type { IceServer } from '@quorum/signaling';
import type { Logger } from 'pino';
import type { ApiKeysService } from './api-keys/api-keys.service';
import type { AuthRateLimiters } from './auth/auth-rate-limits';
import type { AuthService } from './auth/auth.service';
import type { BillingRepository } from './billing/billing.repository';
import type { CredentialGuard } from './auth/credential-guard';
import type { EmailTokensService } from './email/email-tokens.service';
import type { JoinTokensRepository } from './meetings/join-tokens.repository';
import type { MeetingMinutesReader } from './meetings/meeting-minutes';
import type { BillingSyncRepository } from './finance/billing-sync.repository';
import type { FinanceRepository } from './finance/finance.repository';
import type { OperatorAccess } from './operators/operator-access';
import type { Mailer } from '@quorum/mail';
import type { CommandHandler } from './commands/command-handler';
import type { EventTails } from './events/events.tail';
import type { ReadModels } from './read/read-models.repository';
import type { UsageRepository } from './usage/usage.repository';
import type { WebhooksRepository } from './webhooks/webhooks.repository';
import type { OutboundPolicy, Resolver, WebhookSender } from '@quorum/webhooks';
import type { WebhookDeliveriesRepository } from './webhooks/deliveries.repository';

export interface HealthReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: unknown }>;
}

/** Meetings: how join tokens are signed and where the SFU's signaling lives. */
export interface MeetingsConfig {
  /** Shared with the SFU, which verifies join tokens with it; at least 32 characters. */
  joinTokenSecret: string;
  /** Lifetime of a join token, at most 300 seconds. */
  joinTokenTtlSeconds: number;
  /** Shared with the SFU, which signs its calls to `sfu.*` procedures with it. */
  serviceSecret: string;
  /** ICE servers handed to browsers (STUN/TURN); empty on a single host. */
  iceServers: IceServer[];
  /** The signaling WebSocket URL of the SFU node hosting `sessionId` (placement). */
  signalingUrlFor(sessionId: string, origin: { host: string | undefined; secure: boolean }): Promise<string>;
  /** How long a started meeting may stay empty before it is ended. */
  emptyGraceMs: number;
}

/** Webhook endpoints: their secrets and read model, and what the gateway's own requests to them (pings) may reach. */
export interface WebhooksDeps {
  repository: WebhooksRepository;
  /** `WEBHOOK_ALLOW_HTTP` and `WEBHOOK_ALLOW_LOOPBACK`; endpoints are checked against it when created or changed. */
  policy: OutboundPolicy;
  /** DNS for the address guard; the system's when absent. */
  resolve?: Resolver;
  /** Sends test pings, under `policy`. */
  sender: WebhookSender;
}

/** Everything the procedures use; `main.ts` composes it. */
export interface GatewayDeps {
  store: EventStore;
  commands: CommandHandler;
  auth: AuthService;
  apiKeys: ApiKeysService;
  /** Revoked logins and keys, shared by every gateway: checked on each call, watched by sockets and subscriptions. */
  credentials: CredentialGuard;
  /** Secrets mailed to prove an address: sign-up verification and invitation links. */
  emailTokens: EmailTokensService;
  mailer: Mailer;
  /** Meeting join tokens already presented to an SFU: each works once. */
  joinTokens: JoinTokensRepository;
  /** Meeting minutes an organization used in a month, from its usage stream (free plan's limit at join). */
  meetingMinutes: MeetingMinutesReader;
  /** Base of links in mail (`PUBLIC_URL`); absent, the address a request came to. */
  publicUrl?: string;
  /** Login and sign-up limits (in-process, or Redis shared by every gateway). */
  rateLimits: AuthRateLimiters;
  read: ReadModels;
  /** The usage read models (metered time, its events, crossed thresholds). */
  usage: UsageRepository;
  /** The seat timeline and the month's meeting minutes, as the invoice preview reads them. */
  billing: BillingRepository;
  /** Quorum's operators (configured and granted), checked on every finance call. */
  operators: OperatorAccess;
  /** Every organization's usage totals, for the operators' finance review. */
  finance: FinanceRepository;
  /** The Stripe sync's dead letters and operators' requests on them, Stripe's invoices and Customers. */
  billingSync: BillingSyncRepository;
  /** Webhook deliveries and their attempts, and their recovery (the delivery engine's tables). */
  webhookDeliveries: WebhookDeliveriesRepository;
  /** Whether this deployment syncs billing with Stripe; without it billing is Quorum's own figures. */
  stripeConnected: boolean;
  webhooks: WebhooksDeps;
  /** Absent when no SFU is configured: `meetings.join` then answers PRECONDITION_FAILED. */
  meetings?: MeetingsConfig;
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
  /** The shared tails of the organizations followed live (`events.live`, the `/v1` event stream). */
  eventTails: EventTails;
  /** How long a query waits for `minPosition` before answering TIMEOUT. */
  readWaitTimeoutMs: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Every request came over TLS: cookies get the `Secure` flag, answers HSTS. */
  secureCookies: boolean;
  /** `X-Forwarded-Proto: https` marks a request as come over TLS (a proxy in front sets it). */
  trustProxy: boolean;
  health(): Promise<HealthReport>;
}
