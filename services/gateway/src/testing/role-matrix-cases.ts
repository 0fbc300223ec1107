/**
 * The role × procedure matrix, one table for both transports: the gateway's `createCaller`
 * tests (`src/role-matrix.test.ts`) and the HTTP tests (`test/integration/role-matrix.int.test.ts`)
 * call every org-scoped procedure as every caller with these inputs and expect the answer
 * `can(role, action)` gives, so a case written here is checked on both.
 *
 * Preparing an input takes calls of its own (a meeting to end, a member to remove); the test
 * makes them over its own transport through a `MatrixDriver`.
 */
import { randomUUID } from 'node:crypto';
import {
  ACTIONS,
  can,
  OPERATOR_ACTIONS,
  UNGATED_ACTIONS,
  type Action,
  type OperatorAction,
  type Role,
} from '@quorum/domain';
import type { SqlExecutor } from '@quorum/db';
import { describe, expect, it } from 'vitest';
import { procedureTypes, UNKNOWN_INVITATION_TOKEN } from './procedures';

/** Procedures that are not org-scoped, or not role-gated, with the principal they need. */
export const NOT_ORG_SCOPED = [
  'auth.signUp',
  'auth.login',
  'auth.refresh',
  'auth.logout',
  'auth.me',
  'auth.verifyEmail',
  'auth.resendVerification',
  'org.create',
  'org.list',
];
/** Procedures for SFU nodes only (service token); users and API keys get UNAUTHORIZED. */
export const SERVICE_ONLY = ['sfu.participantJoined', 'sfu.participantLeft'];
/** Open to anyone: they establish or end a principal rather than need one. */
export const PUBLIC = ['auth.signUp', 'auth.login', 'auth.refresh', 'auth.logout', 'auth.verifyEmail'];

/**
 * Subscriptions reuse the action of the query they follow. Every subscription in the router
 * must be listed here, so a new one cannot slip past the matrix.
 */
export const SUBSCRIPTIONS: Record<string, Action> = { 'events.live': 'events.list' };

/**
 * A past month: usage reads and the invoice preview refuse a future one, and a month before the
 * organization existed answers all the same (empty).
 */
const USAGE_PERIOD = '202501';

/**
 * Plain HTTP routes gated like a procedure: the action whose rule they follow, and a valid
 * query string for an organization. The HTTP matrix calls each as every caller.
 */
export const HTTP_ROUTES: Record<string, { action: Action; query: (orgId: string) => Record<string, string> }> = {
  '/usage/export.csv': { action: 'usage.records', query: (orgId) => ({ orgId, period: USAGE_PERIOD }) },
};

/**
 * Plain HTTP routes for Quorum's operators only, with a valid query string: every caller of the
 * matrix gets FORBIDDEN (`auth.not_operator`), an operator the download.
 */
export const OPERATOR_ROUTES: Record<string, { action: OperatorAction; query: () => Record<string, string> }> = {
  '/finance/export.csv': { action: 'finance.export', query: () => ({ period: USAGE_PERIOD }) },
};

/**
 * Procedures for Quorum's operators only (the operator actions not served as routes): not
 * org-scoped, no role reaches them; every caller of the matrix gets FORBIDDEN
 * (`auth.not_operator`) and an operator the answer.
 */
export const OPERATOR_ONLY: string[] = OPERATOR_ACTIONS.filter(
  (action) => !Object.values(OPERATOR_ROUTES).some((route) => route.action === action),
);

/** The Stripe sync's dead letter an operator's `finance.stripeRequest` asks to retry. */
const DEAD_LETTER_CAUSE = '00000000-0000-4000-8000-0000000000d1';

/** Valid inputs of the operator-only procedures. */
export function operatorInputs(): Record<string, unknown> {
  return {
    'finance.orgs': { period: USAGE_PERIOD, sort: 'overage', order: 'desc', limit: 5 },
    'finance.stripe': {},
    'finance.stripeRequest': { causeEventId: DEAD_LETTER_CAUSE, operation: 'usage', action: 'retry' },
  };
}

/**
 * What the operator-only procedures need before an operator's call is answered: an open dead
 * letter of the Stripe sync (as the billing process writes one) for `finance.stripeRequest`.
 */
export async function prepareOperatorCalls(sql: SqlExecutor): Promise<void> {
  await sql.query(
    `INSERT INTO billing_dead_letters (cause_event_id, operation, org_id, cause_type, cause_position, error, attempts, failed_at)
     VALUES ($1, 'usage', $2, 'usage.recorded', 1, $3, 1, now())
     ON CONFLICT (cause_event_id, operation) DO UPDATE SET resolved_at = NULL, requested_action = NULL`,
    [
      DEAD_LETTER_CAUSE,
      randomUUID(),
      JSON.stringify({
        type: 'StripeInvalidRequestError',
        code: null,
        message: 'Refused.',
        statusCode: 400,
        requestId: null,
      }),
    ],
  );
}

export interface MatrixUser {
  userId: string;
  token: string;
}

/** Who the matrix calls as: the owner, a member of every other role, and API keys of two roles. */
export interface MatrixPeople {
  owner: MatrixUser;
  users: Record<Exclude<Role, 'owner'>, MatrixUser>;
  keys: Record<'admin' | 'member', string>;
}

/** The calls that prepare an input, made over the test's own transport. */
export interface MatrixDriver {
  /** The people, once the test's set-up has made them. */
  people(): MatrixPeople;
  /** Calls the procedure at a dotted `path` as the organization's owner and returns its result. */
  asOwner(path: string, input: unknown): Promise<unknown>;
  /** Calls the procedure at a dotted `path` with a service token, as an SFU node does. */
  asService(path: string, input: unknown): Promise<unknown>;
  /** A new user invited into `orgId` by the owner with role member, who accepted; their user id. */
  addMember(orgId: string): Promise<string>;
  /** The gateway's database, for rows another process writes (webhook deliveries). */
  sql(): SqlExecutor;
}

export interface MatrixCase {
  /** Valid input for `orgId`, prepared by the owner so that the call succeeds when `allowed`. */
  input: (orgId: string, allowed: boolean) => Promise<Record<string, unknown>>;
  /** Bookkeeping after an allowed call succeeded. */
  after?: (result: unknown) => void;
}

export interface MatrixCaller {
  name: string;
  role: Role;
  creds: () => { token: string } | { apiKey: string };
  /** Every action, with whether `role` may take it. */
  actions: Array<{ action: Action; allowed: boolean }>;
  /** Every subscription, with whether `role` may take the action it follows. */
  subscriptions: Array<{ path: string; allowed: boolean }>;
}

/** How the matrix accounts for the router; `describeCoverage` says what a full account is. */
export interface MatrixCoverage {
  /** The router's procedures other than subscriptions, sorted. */
  procedures: string[];
  /** Role-gated actions, ungated ones, those not org-scoped, for SFU nodes or for operators only, sorted. */
  accountedFor: string[];
  /** Subscriptions of the router with no entry in `SUBSCRIPTIONS`. */
  subscriptionsWithoutAction: string[];
  /** Actions with no case. */
  actionsWithoutCase: Action[];
  /** Operator-only procedures with no valid input in `operatorInputs`. */
  operatorProceduresWithoutInput: string[];
}

export interface RoleMatrix {
  cases: Record<Action, MatrixCase>;
  callers: MatrixCaller[];
  /** The router's subscriptions by dotted path. */
  subscriptions: string[];
  coverage(): MatrixCoverage;
}

/**
 * The tests that the matrix covers the router, which need no transport: a new procedure, action
 * or subscription without its row fails them in every file that walks the matrix.
 */
export function describeCoverage(matrix: RoleMatrix): void {
  describe('the matrix covers the router', () => {
    it('every procedure is a role-gated action, ungated, not org-scoped, or a subscription gated by an action', () => {
      const { procedures, accountedFor, subscriptionsWithoutAction } = matrix.coverage();
      expect(procedures).toEqual(accountedFor);
      expect(subscriptionsWithoutAction, 'each needs an entry in SUBSCRIPTIONS').toEqual([]);
    });

    it('has a case for every action', () => {
      expect(matrix.coverage().actionsWithoutCase).toEqual([]);
    });

    it('has an input for every operator-only procedure', () => {
      expect(matrix.coverage().operatorProceduresWithoutInput).toEqual([]);
    });
  });
}

/** The matrix's cases and callers; inputs are prepared through `driver` when a case runs. */
export function createRoleMatrix(driver: MatrixDriver): RoleMatrix {
  let plan: 'pro' | 'business' = 'pro';
  const { people } = driver;

  /**
   * A member of `org` for a procedure to act on (role member; with a seat when `seated`): a
   * fresh one when the call should succeed. A call that should be refused gets one already
   * there: the role is checked before the target is looked at, and a fresh member costs a
   * sign-up (a password hash) for nothing.
   */
  async function target(org: string, allowed: boolean, seated = false): Promise<string> {
    if (!allowed) return seated ? people().users.host.userId : people().users.member.userId;
    const userId = await driver.addMember(org);
    if (seated) await driver.asOwner('seats.assign', { orgId: org, userId });
    return userId;
  }

  /** A fresh meeting of `org` hosted by the `host` member, created by the owner. */
  async function hostedMeeting(org: string): Promise<{ sessionId: string; minPosition: string }> {
    const { sessionId, position } = (await driver.asOwner('meetings.create', {
      orgId: org,
      title: 'Matrix',
      hostUserId: people().users.host.userId,
    })) as { sessionId: string; position: string };
    return { sessionId, minPosition: position };
  }

  /** A fresh meeting with one participant in it (the owner, who is not its host), reported by the SFU. */
  async function meetingWithGuest(org: string): Promise<{ sessionId: string; participantId: string }> {
    const { sessionId } = await hostedMeeting(org);
    const participantId = people().owner.userId;
    await driver.asService('sfu.participantJoined', { orgId: org, sessionId, participantId, displayName: 'Guest' });
    return { sessionId, participantId };
  }

  /**
   * A webhook endpoint of `org` made by the owner, at a loopback address nothing listens on (a
   * ping gets "connection refused", an answer). The test's Quorum allows http and loopback.
   */
  async function newEndpoint(org: string): Promise<{ endpointId: string; position: string }> {
    const created = (await driver.asOwner('webhooks.create', {
      orgId: org,
      url: 'http://127.0.0.1:9/matrix',
      eventTypes: ['member.joined'],
    })) as { endpoint: { id: string }; position: string };
    return { endpointId: created.endpoint.id, position: created.position };
  }
  /** One endpoint per organization for the calls that leave it as it was (or nearly). */
  const sharedEndpoints = new Map<string, Promise<{ endpointId: string; position: string }>>();
  const sharedEndpoint = (org: string) => {
    let shared = sharedEndpoints.get(org);
    if (!shared) sharedEndpoints.set(org, (shared = newEndpoint(org)));
    return shared;
  };
  /**
   * An endpoint for a call that changes it for good: a fresh one when the call should succeed
   * (an organization has at most 20), the shared one when it is refused before it is looked at.
   */
  const endpointFor = async (org: string, allowed: boolean) =>
    (allowed ? await newEndpoint(org) : await sharedEndpoint(org)).endpointId;
  /** A failed webhook delivery of `org`, as the delivery engine records one. */
  async function failedDelivery(org: string): Promise<string> {
    const deliveryId = randomUUID();
    await driver.sql().query(
      `INSERT INTO webhook_deliveries (id, endpoint_id, org_id, event_id, event_type, stream_id, position, body, status, next_attempt_at)
         VALUES ($1, $2, $3, $4, 'member.joined', $5, 1, '{}', 'failed', now())`,
      [deliveryId, randomUUID(), org, randomUUID(), `organization-${org}`],
    );
    return deliveryId;
  }

  const cases: Record<Action, MatrixCase> = {
    'org.get': { input: async (org) => ({ orgId: org }) },
    'org.changePlan': {
      input: async (org) => ({ orgId: org, plan: plan === 'pro' ? 'business' : 'pro' }),
      after: () => {
        plan = plan === 'pro' ? 'business' : 'pro';
      },
    },
    'members.invite': { input: async (org) => ({ orgId: org, email: uniqueEmail('invitee'), role: 'member' }) },
    'members.changeRole': {
      input: async (org, allowed) => ({ orgId: org, userId: await target(org, allowed), role: 'host' }),
    },
    'members.remove': { input: async (org, allowed) => ({ orgId: org, userId: await target(org, allowed) }) },
    'members.list': { input: async (org) => ({ orgId: org }) },
    'seats.purchase': { input: async (org) => ({ orgId: org, quantity: 1 }) },
    'seats.release': { input: async (org) => ({ orgId: org, quantity: 1 }) },
    'seats.assign': { input: async (org, allowed) => ({ orgId: org, userId: await target(org, allowed) }) },
    'seats.unassign': { input: async (org, allowed) => ({ orgId: org, userId: await target(org, allowed, true) }) },
    'seats.get': { input: async (org) => ({ orgId: org }) },
    'apiKeys.create': {
      input: async (org) => ({ orgId: org, name: `key ${randomUUID().slice(0, 6)}`, role: 'member' }),
    },
    'apiKeys.list': { input: async (org) => ({ orgId: org }) },
    'apiKeys.revoke': {
      input: async (org) => {
        const created = (await driver.asOwner('apiKeys.create', { orgId: org, name: 'to revoke', role: 'member' })) as {
          key: { id: string };
        };
        return { orgId: org, keyId: created.key.id };
      },
    },
    'events.list': { input: async (org) => ({ orgId: org }) },
    // Meetings are hosted by the `host` member (who holds a seat), so the host role passes the
    // decider's own host check and owners and admins pass it as organization moderators.
    'meetings.create': {
      input: async (org) => ({ orgId: org, title: 'Matrix', hostUserId: people().users.host.userId }),
    },
    'meetings.get': { input: async (org) => ({ orgId: org, ...(await hostedMeeting(org)) }) },
    'meetings.list': { input: async (org) => ({ orgId: org }) },
    'meetings.join': { input: async (org) => ({ orgId: org, sessionId: (await hostedMeeting(org)).sessionId }) },
    'meetings.end': { input: async (org) => ({ orgId: org, sessionId: (await hostedMeeting(org)).sessionId }) },
    'meetings.lock': { input: async (org) => ({ orgId: org, sessionId: (await hostedMeeting(org)).sessionId }) },
    'meetings.unlock': {
      input: async (org) => {
        const { sessionId } = await hostedMeeting(org);
        await driver.asOwner('meetings.lock', { orgId: org, sessionId });
        return { orgId: org, sessionId };
      },
    },
    'meetings.mute': { input: async (org) => ({ orgId: org, ...(await meetingWithGuest(org)), kind: 'audio' }) },
    'meetings.remove': { input: async (org) => ({ orgId: org, ...(await meetingWithGuest(org)) }) },
    'usage.summary': { input: async (org) => ({ orgId: org, period: USAGE_PERIOD, groupBy: 'meter' }) },
    'usage.records': { input: async (org) => ({ orgId: org, period: USAGE_PERIOD }) },
    'billing.preview': { input: async (org) => ({ orgId: org, period: USAGE_PERIOD }) },
    'webhooks.create': {
      input: async (org) => ({ orgId: org, url: 'http://127.0.0.1:9/created', eventTypes: ['seat.assigned'] }),
    },
    'webhooks.list': { input: async (org) => ({ orgId: org }) },
    'webhooks.get': {
      input: async (org) => {
        const { endpointId, position } = await sharedEndpoint(org);
        return { orgId: org, endpointId, minPosition: position };
      },
    },
    'webhooks.update': {
      input: async (org) => ({
        orgId: org,
        endpointId: (await sharedEndpoint(org)).endpointId,
        description: `matrix ${randomUUID().slice(0, 8)}`,
      }),
    },
    'webhooks.pause': { input: async (org, allowed) => ({ orgId: org, endpointId: await endpointFor(org, allowed) }) },
    'webhooks.resume': {
      input: async (org, allowed) => {
        const endpointId = await endpointFor(org, allowed);
        if (allowed) await driver.asOwner('webhooks.pause', { orgId: org, endpointId });
        return { orgId: org, endpointId };
      },
    },
    'webhooks.rotateSecret': {
      input: async (org) => ({ orgId: org, endpointId: (await sharedEndpoint(org)).endpointId, overlapSeconds: 60 }),
    },
    'webhooks.revealSecret': {
      input: async (org) => ({ orgId: org, endpointId: (await sharedEndpoint(org)).endpointId }),
    },
    'webhooks.delete': { input: async (org, allowed) => ({ orgId: org, endpointId: await endpointFor(org, allowed) }) },
    'webhooks.ping': { input: async (org) => ({ orgId: org, endpointId: (await sharedEndpoint(org)).endpointId }) },
    'webhookDeliveries.list': {
      input: async (org) => ({ orgId: org, endpointId: (await sharedEndpoint(org)).endpointId }),
    },
    'webhookDeliveries.attempts': {
      input: async (org) => ({ orgId: org, deliveryId: await failedDelivery(org) }),
    },
    'webhookDeliveries.resend': {
      input: async (org) => ({ orgId: org, deliveryId: await failedDelivery(org) }),
    },
    'webhookDeliveries.recover': {
      input: async (org) => ({
        orgId: org,
        endpointId: (await sharedEndpoint(org)).endpointId,
        since: '2025-01-01T00:00:00.000Z',
      }),
    },
  };

  const types = procedureTypes();
  const subscriptions = Object.keys(types).filter((p) => types[p] === 'subscription');
  const caller = (name: string, role: Role, creds: MatrixCaller['creds']): MatrixCaller => ({
    name,
    role,
    creds,
    actions: ACTIONS.map((action) => ({ action, allowed: can(role, action) })),
    subscriptions: subscriptions.map((path) => ({
      path,
      allowed: SUBSCRIPTIONS[path] !== undefined && can(role, SUBSCRIPTIONS[path]),
    })),
  });
  const callers: MatrixCaller[] = [
    caller('owner', 'owner', () => ({ token: people().owner.token })),
    caller('admin', 'admin', () => ({ token: people().users.admin.token })),
    caller('billing', 'billing', () => ({ token: people().users.billing.token })),
    caller('host', 'host', () => ({ token: people().users.host.token })),
    caller('member', 'member', () => ({ token: people().users.member.token })),
    caller('API key (admin)', 'admin', () => ({ apiKey: people().keys.admin })),
    caller('API key (member)', 'member', () => ({ apiKey: people().keys.member })),
  ];

  const coverage = (): MatrixCoverage => ({
    procedures: Object.keys(types)
      .filter((p) => !subscriptions.includes(p))
      .sort(),
    accountedFor: [...ACTIONS, ...UNGATED_ACTIONS, ...NOT_ORG_SCOPED, ...SERVICE_ONLY, ...OPERATOR_ONLY].sort(),
    subscriptionsWithoutAction: subscriptions.filter((p) => SUBSCRIPTIONS[p] === undefined),
    actionsWithoutCase: ACTIONS.filter((action) => cases[action] === undefined),
    operatorProceduresWithoutInput: OPERATOR_ONLY.filter((path) => operatorInputs()[path] === undefined),
  });

  return { cases, callers, subscriptions, coverage };
}

/**
 * Valid inputs of the procedures outside the matrix that need a principal, for calling them
 * without one; the matrix's own procedures take their case's input.
 */
export function unauthenticatedInputs(orgId: string): Record<string, unknown> {
  return {
    'auth.me': {},
    'auth.resendVerification': {},
    'org.create': { name: 'Nobody Inc', plan: 'pro' },
    'org.list': {},
    'members.accept': { orgId, invitationId: randomUUID(), token: UNKNOWN_INVITATION_TOKEN },
    'sfu.participantJoined': { orgId, sessionId: randomUUID(), participantId: randomUUID(), displayName: 'Nobody' },
    'sfu.participantLeft': { orgId, sessionId: randomUUID(), participantId: randomUUID(), reason: 'left' },
    'events.live': { orgId },
    ...operatorInputs(),
  };
}

/**
 * The procedures only a user may call, with valid inputs: an API key gets FORBIDDEN from each.
 * `invitation` is a pending invitation into `orgId` and the secret of its link.
 */
export function userOnlyCalls(
  orgId: string,
  invitation: { invitationId: string; token: string },
): Array<[path: string, input: unknown]> {
  return [
    ['org.create', { name: 'Keyed Inc', plan: 'pro' }],
    ['org.list', {}],
    ['members.accept', { orgId, ...invitation }],
    ['auth.me', {}],
    ['auth.resendVerification', {}],
  ];
}

function uniqueEmail(label: string): string {
  return `${label}-${randomUUID().slice(0, 12)}@example.com`;
}
