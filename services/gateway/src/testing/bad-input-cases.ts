/**
 * The bad-input cases of every procedure, one table for both transports: the gateway's
 * `createCaller` tests (`src/bad-input.test.ts`) and the HTTP tests
 * (`test/integration/bad-input.int.test.ts`) call each procedure with each input and expect
 * BAD_REQUEST naming every listed field, so a case written here is checked on both.
 */
import { randomUUID } from 'node:crypto';
import { encodeFinanceCursor } from '@quorum/api/schemas';
import { UNKNOWN_INVITATION_TOKEN } from './procedures';

export interface BadCase {
  input: unknown;
  /** Field paths the error must name. */
  fields: string[];
}

/** The organization the cases act in, a member of it, and its owner's email. */
export interface BadInputIds {
  orgId: string;
  memberId: string;
  ownerEmail: string;
}

const long = (n: number) => 'x'.repeat(n);
const uuid = () => randomUUID();

/**
 * Malformed inputs for every procedure of the router, naming `ids` where a well-formed id is
 * needed so that only the malformed field can be what is refused.
 */
export function badInputs(ids: BadInputIds): Record<string, BadCase[]> {
  const { orgId, memberId, ownerEmail } = ids;
  const quantities: BadCase[] = [
    { input: { orgId, quantity: 0 }, fields: ['quantity'] },
    { input: { orgId, quantity: -1 }, fields: ['quantity'] },
    { input: { orgId, quantity: 1.5 }, fields: ['quantity'] },
    { input: { orgId, quantity: 10_001 }, fields: ['quantity'] },
    { input: { orgId, quantity: '2' }, fields: ['quantity'] },
    { input: { orgId }, fields: ['quantity'] },
    { input: { orgId: 'not-a-uuid', quantity: 1 }, fields: ['orgId'] },
  ];
  const badMinPosition: BadCase[] = [
    { input: { orgId, minPosition: 'abc' }, fields: ['minPosition'] },
    { input: { orgId, minPosition: '-1' }, fields: ['minPosition'] },
    { input: { orgId, minPosition: 5 }, fields: ['minPosition'] },
    { input: { orgId, minPosition: '1'.repeat(20) }, fields: ['minPosition'] },
    { input: { orgId: 'nope' }, fields: ['orgId'] },
    { input: {}, fields: ['orgId'] },
  ];
  return {
    'auth.signUp': [
      { input: {}, fields: ['email', 'password', 'name'] },
      { input: { email: 'not-an-email', password: 'long enough password', name: 'A' }, fields: ['email'] },
      { input: { email: 42, password: 'long enough password', name: 'A' }, fields: ['email'] },
      { input: { email: `a-${uuid()}@example.com`, password: 'short', name: 'A' }, fields: ['password'] },
      {
        input: { email: `a-${uuid()}@example.com`, password: 'long enough password', name: long(101) },
        fields: ['name'],
      },
    ],
    'auth.login': [
      { input: { email: 'nobody' }, fields: ['email', 'password'] },
      { input: { email: ownerEmail, password: 12345 }, fields: ['password'] },
    ],
    'auth.refresh': [
      { input: { refreshToken: 5 }, fields: ['refreshToken'] },
      { input: { refreshToken: '' }, fields: ['refreshToken'] },
    ],
    'auth.logout': [{ input: { refreshToken: ['a'] }, fields: ['refreshToken'] }],
    'auth.me': [{ input: 'me', fields: ['(input)'] }],
    'auth.verifyEmail': [
      { input: {}, fields: ['token'] },
      { input: { token: 'qev_short' }, fields: ['token'] },
      { input: { token: `qinv_${'A'.repeat(43)}` }, fields: ['token'] },
    ],
    'auth.resendVerification': [{ input: 'again', fields: ['(input)'] }],
    'org.create': [
      { input: {}, fields: ['name'] },
      { input: { name: long(101), plan: 'pro' }, fields: ['name'] },
      { input: { name: '   ', plan: 'pro' }, fields: ['name'] },
      { input: { name: 'Acme', plan: 'platinum' }, fields: ['plan'] },
      { input: { name: 7 }, fields: ['name'] },
    ],
    'org.get': badMinPosition,
    'org.list': [{ input: { minPosition: 'latest' }, fields: ['minPosition'] }],
    'org.changePlan': [
      { input: { orgId, plan: 'gold' }, fields: ['plan'] },
      { input: { orgId: 'x', plan: 'business' }, fields: ['orgId'] },
      { input: { orgId }, fields: ['plan'] },
    ],
    'members.invite': [
      { input: { orgId, email: 'not-an-email', role: 'member' }, fields: ['email'] },
      { input: { orgId, email: `i-${uuid()}@example.com`, role: 'superuser' }, fields: ['role'] },
      { input: { email: `i-${uuid()}@example.com`, role: 'member' }, fields: ['orgId'] },
      { input: { orgId, email: `${long(250)}@example.com`, role: 'member' }, fields: ['email'] },
    ],
    'members.accept': [
      { input: { orgId, invitationId: 'abc', token: UNKNOWN_INVITATION_TOKEN }, fields: ['invitationId'] },
      { input: { orgId: 1, invitationId: uuid(), token: UNKNOWN_INVITATION_TOKEN }, fields: ['orgId'] },
      { input: { orgId, invitationId: uuid() }, fields: ['token'] },
      { input: { orgId, invitationId: uuid(), token: 'qinv_short' }, fields: ['token'] },
    ],
    'members.changeRole': [
      { input: { orgId, userId: 'u1', role: 'admin' }, fields: ['userId'] },
      { input: { orgId, userId: memberId, role: 'emperor' }, fields: ['role'] },
      { input: { orgId, userId: memberId }, fields: ['role'] },
    ],
    'members.remove': [
      { input: { orgId }, fields: ['userId'] },
      { input: { orgId, userId: `${memberId}x` }, fields: ['userId'] },
    ],
    'members.list': badMinPosition,
    'seats.purchase': quantities,
    'seats.release': quantities,
    'seats.assign': [
      { input: { orgId, userId: 'me' }, fields: ['userId'] },
      { input: { userId: memberId }, fields: ['orgId'] },
    ],
    'seats.unassign': [{ input: { orgId, userId: null }, fields: ['userId'] }],
    'seats.get': badMinPosition,
    'apiKeys.create': [
      { input: { orgId, name: long(101), role: 'admin' }, fields: ['name'] },
      { input: { orgId, name: '', role: 'admin' }, fields: ['name'] },
      { input: { orgId, name: 'ci', role: 'owner' }, fields: ['role'] },
      { input: { orgId, name: 'ci', role: 'root' }, fields: ['role'] },
    ],
    'apiKeys.list': [
      { input: { orgId: 'abc' }, fields: ['orgId'] },
      { input: { orgId, minPosition: '12.5' }, fields: ['minPosition'] },
    ],
    'apiKeys.revoke': [
      { input: { orgId, keyId: 'qk_123' }, fields: ['keyId'] },
      { input: { orgId }, fields: ['keyId'] },
    ],
    'events.list': [
      { input: { orgId, limit: 0 }, fields: ['limit'] },
      { input: { orgId, limit: 501 }, fields: ['limit'] },
      { input: { orgId, limit: 2.5 }, fields: ['limit'] },
      { input: { orgId, after: 'x' }, fields: ['after'] },
      { input: { orgId, before: -3 }, fields: ['before'] },
      { input: { orgId, order: 'sideways' }, fields: ['order'] },
      { input: { orgId, types: [''] }, fields: ['types.0'] },
      { input: { orgId, minPosition: 'soon' }, fields: ['minPosition'] },
    ],
    'meetings.create': [
      { input: { orgId, title: '' }, fields: ['title'] },
      { input: { orgId, title: long(201) }, fields: ['title'] },
      { input: { orgId, title: 'Standup', scheduledFor: 'tomorrow' }, fields: ['scheduledFor'] },
      { input: { orgId, title: 'Standup', hostUserId: 'me' }, fields: ['hostUserId'] },
      { input: { title: 'Standup' }, fields: ['orgId'] },
    ],
    'meetings.get': [
      { input: { orgId, sessionId: 'abc' }, fields: ['sessionId'] },
      { input: { orgId, sessionId: uuid(), minPosition: 'now' }, fields: ['minPosition'] },
    ],
    'meetings.list': [
      { input: { orgId, status: 'running' }, fields: ['status'] },
      { input: { orgId, limit: 0 }, fields: ['limit'] },
    ],
    'meetings.join': [
      { input: { orgId }, fields: ['sessionId'] },
      { input: { orgId, sessionId: uuid(), displayName: long(101) }, fields: ['displayName'] },
    ],
    'meetings.end': [{ input: { orgId, sessionId: 7 }, fields: ['sessionId'] }],
    'meetings.lock': [{ input: { sessionId: uuid() }, fields: ['orgId'] }],
    'meetings.unlock': [{ input: { orgId: 'x', sessionId: uuid() }, fields: ['orgId'] }],
    'meetings.mute': [
      { input: { orgId, sessionId: uuid(), participantId: uuid(), kind: 'screen' }, fields: ['kind'] },
      { input: { orgId, sessionId: uuid(), kind: 'audio' }, fields: ['participantId'] },
    ],
    'meetings.remove': [{ input: { orgId, sessionId: uuid(), participantId: 'someone' }, fields: ['participantId'] }],
    'sfu.participantJoined': [
      { input: { orgId, sessionId: uuid(), participantId: uuid(), displayName: '' }, fields: ['displayName'] },
      { input: { orgId, sessionId: 'x', participantId: uuid(), displayName: 'A' }, fields: ['sessionId'] },
    ],
    'sfu.participantLeft': [
      { input: { orgId, sessionId: uuid(), participantId: uuid(), reason: 'bored' }, fields: ['reason'] },
    ],
    'usage.summary': [
      { input: { orgId, period: '2025-13' }, fields: ['period'] },
      { input: { orgId, period: '202513' }, fields: ['period'] },
      { input: { orgId, period: 202501 }, fields: ['period'] },
      { input: { orgId }, fields: ['period'] },
      { input: { orgId, period: '202501', groupBy: 'week' }, fields: ['groupBy'] },
      { input: { orgId: 'acme', period: '202501' }, fields: ['orgId'] },
      { input: { orgId, period: '202501', minPosition: 'now' }, fields: ['minPosition'] },
    ],
    'usage.records': [
      { input: { orgId, period: '202501', limit: 0 }, fields: ['limit'] },
      { input: { orgId, period: '202501', limit: 501 }, fields: ['limit'] },
      { input: { orgId, period: '202501', limit: 2.5 }, fields: ['limit'] },
      { input: { orgId, period: '25-01' }, fields: ['period'] },
      { input: { orgId, period: '202501', meter: 'seat_minutes' }, fields: ['meter'] },
      { input: { orgId, period: '202502', day: '2025-02-30' }, fields: ['day'] },
      { input: { orgId, period: '202501', day: '1 Jan' }, fields: ['day'] },
      { input: { orgId, period: '202501', hostUserId: 'me' }, fields: ['hostUserId'] },
      { input: { orgId, period: '202501', sessionId: 7 }, fields: ['sessionId'] },
      { input: { orgId, period: '202501', cursor: 'next' }, fields: ['cursor'] },
      { input: { orgId, period: '202501', cursor: '9'.repeat(19) }, fields: ['cursor'] },
    ],
    'billing.preview': [
      { input: { orgId, period: '2025-03' }, fields: ['period'] },
      { input: { orgId, period: '202500' }, fields: ['period'] },
      { input: { orgId, period: 202503 }, fields: ['period'] },
      { input: { orgId }, fields: ['period'] },
      { input: { period: '202503' }, fields: ['orgId'] },
      { input: { orgId: 'acme', period: 'March' }, fields: ['orgId', 'period'] },
      { input: { orgId, period: '202503', minPosition: '-5' }, fields: ['minPosition'] },
    ],
    'webhookDeliveries.list': [
      { input: { orgId }, fields: ['endpointId'] },
      { input: { orgId, endpointId: 'hook' }, fields: ['endpointId'] },
      { input: { orgId, endpointId: uuid(), status: 'lost' }, fields: ['status'] },
      { input: { orgId, endpointId: uuid(), cursor: 'page-2' }, fields: ['cursor'] },
      { input: { orgId, endpointId: uuid(), limit: 0 }, fields: ['limit'] },
      { input: { orgId, endpointId: uuid(), limit: 201 }, fields: ['limit'] },
    ],
    'webhookDeliveries.attempts': [
      { input: { orgId }, fields: ['deliveryId'] },
      { input: { orgId, deliveryId: 'msg_1' }, fields: ['deliveryId'] },
    ],
    'webhookDeliveries.resend': [
      { input: { orgId }, fields: ['deliveryId'] },
      { input: { orgId: 'acme', deliveryId: uuid() }, fields: ['orgId'] },
    ],
    'webhookDeliveries.recover': [
      { input: { orgId, endpointId: uuid() }, fields: ['since'] },
      { input: { orgId, endpointId: uuid(), since: 'yesterday' }, fields: ['since'] },
      { input: { orgId, since: '2025-01-01T00:00:00.000Z' }, fields: ['endpointId'] },
    ],
    'finance.stripe': [{ input: 'all', fields: ['(input)'] }],
    'finance.stripeRequest': [
      { input: {}, fields: ['causeEventId', 'operation', 'action'] },
      { input: { causeEventId: 'evt_1', operation: 'usage', action: 'retry' }, fields: ['causeEventId'] },
      { input: { causeEventId: orgId, operation: 'invoice', action: 'retry' }, fields: ['operation'] },
      { input: { causeEventId: orgId, operation: 'usage', action: 'refund' }, fields: ['action'] },
      { input: { causeEventId: orgId, operation: 'usage', action: 'skip' }, fields: ['reason'] },
      { input: { causeEventId: orgId, operation: 'usage', action: 'skip', reason: long(501) }, fields: ['reason'] },
    ],
    'finance.orgs': [
      { input: { period: '2025-13' }, fields: ['period'] },
      { input: { period: 202501 }, fields: ['period'] },
      { input: {}, fields: ['period'] },
      // A well-formed month after the current one: refused by the handler (`usage.period_in_future`).
      { input: { period: '999912' }, fields: [] },
      { input: { period: '202501', limit: 0 }, fields: ['limit'] },
      { input: { period: '202501', limit: 501 }, fields: ['limit'] },
      { input: { period: '202501', limit: 2.5 }, fields: ['limit'] },
      { input: { period: '202501', sort: 'plan' }, fields: ['sort'] },
      { input: { period: '202501', order: 'up' }, fields: ['order'] },
      { input: { period: '202501', cursor: 'next' }, fields: ['cursor'] },
      { input: { period: '202501', cursor: 42 }, fields: ['cursor'] },
      {
        input: {
          period: '202501',
          sort: 'name',
          cursor: encodeFinanceCursor({ sort: 'overage', order: 'desc', key: 7, orgId }),
        },
        fields: ['cursor'],
      },
      {
        input: { period: '202501', cursor: encodeFinanceCursor({ sort: 'name', order: 'asc', key: 7, orgId }) },
        fields: ['cursor'],
      },
      { input: { period: '202501', minPosition: 'now' }, fields: ['minPosition'] },
    ],
    'webhooks.create': [
      { input: { orgId, url: 'ftp://hooks.example.com/in' }, fields: ['url'] },
      { input: { orgId, url: 'https://user:pw@hooks.example.com/in' }, fields: ['url'] },
      { input: { orgId, url: 'hooks.example.com/in' }, fields: ['url'] },
      { input: { orgId, url: `https://hooks.example.com/${long(2048)}` }, fields: ['url'] },
      {
        input: { orgId, url: 'https://hooks.example.com/in', eventTypes: ['Member Joined'] },
        fields: ['eventTypes.0'],
      },
      { input: { orgId, url: 'https://hooks.example.com/in', eventTypes: 'member.joined' }, fields: ['eventTypes'] },
      { input: { orgId, url: 'https://hooks.example.com/in', description: long(501) }, fields: ['description'] },
      { input: { orgId, url: 'https://hooks.example.com/in', description: 'a\u0000b' }, fields: ['description'] },
      { input: { orgId }, fields: ['url'] },
    ],
    'webhooks.list': [
      { input: { orgId: 'abc' }, fields: ['orgId'] },
      { input: { orgId, includeDeleted: 'yes' }, fields: ['includeDeleted'] },
      { input: { orgId, minPosition: '-1' }, fields: ['minPosition'] },
    ],
    'webhooks.get': [
      { input: { orgId, endpointId: 'ep_1' }, fields: ['endpointId'] },
      { input: { orgId, endpointId: uuid(), minPosition: 'x' }, fields: ['minPosition'] },
    ],
    'webhooks.update': [
      { input: { orgId, endpointId: uuid(), url: 'not a url' }, fields: ['url'] },
      { input: { orgId, endpointId: uuid(), eventTypes: [7] }, fields: ['eventTypes.0'] },
      { input: { orgId, url: 'https://hooks.example.com/in' }, fields: ['endpointId'] },
    ],
    'webhooks.pause': [{ input: { orgId }, fields: ['endpointId'] }],
    'webhooks.resume': [{ input: { orgId, endpointId: 12 }, fields: ['endpointId'] }],
    'webhooks.rotateSecret': [
      { input: { orgId, endpointId: uuid(), overlapSeconds: -1 }, fields: ['overlapSeconds'] },
      { input: { orgId, endpointId: uuid(), overlapSeconds: 7 * 86_400 + 1 }, fields: ['overlapSeconds'] },
      { input: { orgId, endpointId: uuid(), overlapSeconds: 1.5 }, fields: ['overlapSeconds'] },
      { input: { orgId, endpointId: 'x' }, fields: ['endpointId'] },
    ],
    'webhooks.revealSecret': [{ input: { orgId: 'o', endpointId: uuid() }, fields: ['orgId'] }],
    'webhooks.delete': [{ input: { orgId, endpointId: null }, fields: ['endpointId'] }],
    'webhooks.ping': [{ input: { endpointId: uuid() }, fields: ['orgId'] }],
    'events.live': [
      { input: { orgId: 'nope' }, fields: ['orgId'] },
      { input: { orgId, after: 'x' }, fields: ['after'] },
      { input: { orgId, lastEventId: -1 }, fields: ['lastEventId'] },
    ],
  };
}
