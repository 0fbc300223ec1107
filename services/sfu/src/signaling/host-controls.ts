/**
 * Host controls reach the SFU as events: the gateway appends `participant.muted`,
 * `participant.removed`, `session.locked` / `session.unlocked` and `session.ended` to the
 * session stream, the relay publishes them, and every SFU node consumes the session subjects
 * with its own durable consumer and enforces those of the meetings it hosts.
 *
 * Events that happened before this node started are skipped: the meetings they concern were
 * not live here (a node's meetings start with it), and the gateway already refuses what they
 * forbid (a removed participant's or an ended meeting's join).
 */
import type { Consumer, EventBus } from '@quorum/bus';
import type { Logger } from 'pino';
import type { SignalingServer } from './signaling-server';

/** The session event types the SFU acts on. */
export const HOST_CONTROL_TYPES = [
  'participant.muted',
  'participant.removed',
  'session.locked',
  'session.unlocked',
  'session.ended',
] as const;

/**
 * The session subjects of every organization (see `eventSubject` in `@quorum/bus`). One filter
 * (NATS 2.9 takes one per consumer); other session event types are skipped by the handler.
 */
export const HOST_CONTROL_SUBJECTS = ['evt.*.session.>'];
const ACTED_ON = new Set<string>(HOST_CONTROL_TYPES);

interface EventPayload {
  type: string;
  streamId: string;
  occurredAt: string;
  data: unknown;
}

function isEventPayload(payload: unknown): payload is EventPayload {
  const p = payload as Partial<EventPayload> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.type === 'string' &&
    typeof p.streamId === 'string' &&
    typeof p.occurredAt === 'string'
  );
}

/** The organization subjects of every organization: removals of members and revocations of keys. */
export const ACCESS_SUBJECTS = ['evt.*.organization.>'];

/**
 * Someone who loses access to an organization leaves its meetings: `member.removed` and
 * `api_key.revoked` on the organization stream disconnect that member or key from every meeting
 * of the organization this node hosts (their join was checked when they came in; this ends what
 * they hold since). A second durable consumer (`sfu-<nodeId>-access`): NATS 2.9 takes one
 * subject filter per consumer.
 */
export async function consumeAccessChanges(options: {
  bus: EventBus;
  server: SignalingServer;
  nodeId: string;
  logger: Logger;
  since?: Date;
}): Promise<Consumer> {
  const since = (options.since ?? new Date(Date.now() - 5_000)).getTime();
  return options.bus.consume({
    durableName: `sfu-${options.nodeId.replace(/[^A-Za-z0-9_-]/g, '_')}-access`,
    filterSubjects: ACCESS_SUBJECTS,
    handler: async (message) => {
      const event = message.payload;
      if (!isEventPayload(event) || !event.streamId.startsWith('organization-') || Date.parse(event.occurredAt) < since)
        return;
      const data = event.data as { userId?: unknown; keyId?: unknown };
      const participantId =
        event.type === 'member.removed' ? data.userId : event.type === 'api_key.revoked' ? data.keyId : undefined;
      if (typeof participantId !== 'string') return;
      const orgId = event.streamId.slice('organization-'.length);
      const dropped = options.server.revokeAccess(orgId, participantId);
      if (dropped > 0)
        options.logger.info(
          { orgId, participantId, type: event.type, dropped },
          'disconnected someone who lost access to the organization',
        );
    },
    onError: (error) => options.logger.warn({ err: error }, 'access-change consumer error'),
  });
}

export async function consumeHostControls(options: {
  bus: EventBus;
  server: SignalingServer;
  /** This node's id; its durable consumer is `sfu-<nodeId>`. */
  nodeId: string;
  logger: Logger;
  /** Events before this time are skipped. Default: now, minus five seconds of clock skew. */
  since?: Date;
}): Promise<Consumer> {
  const since = (options.since ?? new Date(Date.now() - 5_000)).getTime();
  return options.bus.consume({
    durableName: `sfu-${options.nodeId.replace(/[^A-Za-z0-9_-]/g, '_')}`,
    filterSubjects: HOST_CONTROL_SUBJECTS,
    handler: async (message) => {
      const event = message.payload;
      if (!isEventPayload(event)) {
        options.logger.warn({ subject: message.subject }, 'host control without an event envelope; skipped');
        return;
      }
      if (!ACTED_ON.has(event.type) || Date.parse(event.occurredAt) < since) return;
      await options.server.applySessionEvent(event);
    },
    onError: (error) => options.logger.warn({ err: error }, 'host-control consumer error'),
  });
}
