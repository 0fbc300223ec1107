/**
 * The webhook endpoints of one organization (`webhooks-<orgId>`), folded into one state: each
 * endpoint's URL, event types and status. An empty stream is an organization without
 * endpoints. A deleted endpoint stays in the state (its id cannot be reused, and a late command
 * on it is told it was deleted) but no longer counts towards {@link MAX_ENDPOINTS_PER_ORG}.
 */
import { isPublicEventType } from '../contract/public-events';
import type { Decider } from '../decider';
import { badRequest, conflict, notFound, preconditionFailed } from '../errors';
import { assertUnreachable } from '../util/assert-unreachable';
import {
  MAX_ENDPOINTS_PER_ORG,
  MAX_SECRET_OVERLAP_MS,
  type CreateEndpoint,
  type DisableEndpoint,
  type RotateEndpointSecret,
  type UpdateEndpoint,
  type WebhooksCommand,
} from './webhooks.commands';
import type { WebhooksEvent } from './webhooks.events';

/** Where an endpoint stands: `disabled` is Quorum's doing, `paused` a person's. */
export type EndpointStatus = 'enabled' | 'paused' | 'disabled' | 'deleted';

/** One endpoint as the decider knows it. */
export interface Endpoint {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  readonly eventTypes: readonly string[];
  readonly status: EndpointStatus;
  readonly disabledReason: 'gone' | 'failing' | null;
}

/** State of a `webhooks-<orgId>` stream. */
export interface WebhooksState {
  readonly endpoints: ReadonlyMap<string, Endpoint>;
}

/** State of an empty stream. */
export const initialWebhooksState: WebhooksState = { endpoints: new Map() };

/** Endpoints that are not deleted. */
export function liveEndpoints(state: WebhooksState): Endpoint[] {
  return [...state.endpoints.values()].filter((e) => e.status !== 'deleted');
}

function withEndpoint(state: WebhooksState, id: string, change: Partial<Endpoint>): WebhooksState {
  const current = state.endpoints.get(id);
  // Total: an event for an endpoint this stream never created leaves the state as it is.
  if (!current) return state;
  return { endpoints: new Map(state.endpoints).set(id, { ...current, ...change }) };
}

function evolve(state: WebhooksState, event: WebhooksEvent): WebhooksState {
  switch (event.type) {
    case 'endpoint.created': {
      const d = event.data;
      const endpoint: Endpoint = {
        id: d.endpointId,
        url: d.url,
        description: d.description,
        eventTypes: d.eventTypes,
        status: 'enabled',
        disabledReason: null,
      };
      return { endpoints: new Map(state.endpoints).set(d.endpointId, endpoint) };
    }
    case 'endpoint.updated': {
      const { url, description, eventTypes } = event.data;
      return withEndpoint(state, event.data.endpointId, { url, description, eventTypes });
    }
    case 'endpoint.paused':
      return withEndpoint(state, event.data.endpointId, { status: 'paused' });
    case 'endpoint.resumed':
      return withEndpoint(state, event.data.endpointId, { status: 'enabled', disabledReason: null });
    case 'endpoint.secret_rotated':
      return state;
    case 'endpoint.deleted':
      return withEndpoint(state, event.data.endpointId, { status: 'deleted' });
    case 'endpoint.disabled':
      return withEndpoint(state, event.data.endpointId, { status: 'disabled', disabledReason: event.data.reason });
    default:
      return assertUnreachable(event);
  }
}

/** The endpoint a command addresses: NOT_FOUND when it never existed or was deleted. */
function existing(state: WebhooksState, endpointId: string): Endpoint {
  const endpoint = state.endpoints.get(endpointId);
  if (!endpoint)
    throw notFound('webhooks.endpoint_not_found', 'No webhook endpoint with that id in this organization.', {
      endpointId,
    });
  if (endpoint.status === 'deleted')
    throw notFound('webhooks.endpoint_deleted', 'This webhook endpoint was deleted.', { endpointId });
  return endpoint;
}

/**
 * The event types as given, without repeats; BAD_REQUEST (`webhooks.unknown_event_types`)
 * listing every one that is not a public type.
 */
function publicEventTypes(eventTypes: readonly string[]): string[] {
  const unique = [...new Set(eventTypes)];
  const unknown = unique.filter((type) => !isPublicEventType(type));
  if (unknown.length > 0) {
    throw badRequest(
      'webhooks.unknown_event_types',
      `Not public event types: ${unknown.join(', ')}. See docs/events.md for the types an endpoint can receive.`,
      { eventTypes: unknown },
    );
  }
  return unique;
}

function create(command: CreateEndpoint, state: WebhooksState): WebhooksEvent[] {
  if (state.endpoints.has(command.endpointId))
    throw conflict('webhooks.endpoint_exists', 'A webhook endpoint with that id already exists.', {
      endpointId: command.endpointId,
    });
  const eventTypes = publicEventTypes(command.eventTypes);
  const live = liveEndpoints(state).length;
  if (live >= MAX_ENDPOINTS_PER_ORG) {
    throw preconditionFailed(
      'webhooks.endpoint_limit',
      `An organization may have at most ${MAX_ENDPOINTS_PER_ORG} webhook endpoints; delete one first.`,
      { max: MAX_ENDPOINTS_PER_ORG, endpoints: live },
    );
  }
  return [
    {
      type: 'endpoint.created',
      data: {
        endpointId: command.endpointId,
        url: command.url,
        description: command.description,
        eventTypes,
        createdBy: command.by,
      },
    },
  ];
}

function update(command: UpdateEndpoint, state: WebhooksState): WebhooksEvent[] {
  const endpoint = existing(state, command.endpointId);
  const url = command.url ?? endpoint.url;
  const description = command.description ?? endpoint.description;
  const eventTypes = command.eventTypes === undefined ? endpoint.eventTypes : publicEventTypes(command.eventTypes);
  const sameTypes =
    eventTypes.length === endpoint.eventTypes.length && eventTypes.every((t, i) => t === endpoint.eventTypes[i]);
  if (url === endpoint.url && description === endpoint.description && sameTypes)
    throw preconditionFailed('webhooks.unchanged', 'Nothing to change: the endpoint already has these values.', {
      endpointId: endpoint.id,
    });
  return [
    {
      type: 'endpoint.updated',
      data: { endpointId: endpoint.id, url, description, eventTypes: [...eventTypes], updatedBy: command.by },
    },
  ];
}

function pause(endpointId: string, by: string, state: WebhooksState): WebhooksEvent[] {
  const endpoint = existing(state, endpointId);
  if (endpoint.status === 'paused')
    throw conflict('webhooks.already_paused', 'This webhook endpoint is already paused.', { endpointId });
  if (endpoint.status === 'disabled')
    throw preconditionFailed(
      'webhooks.endpoint_disabled',
      'Quorum disabled this endpoint; it receives nothing until it is resumed.',
      { endpointId, reason: endpoint.disabledReason },
    );
  return [{ type: 'endpoint.paused', data: { endpointId, by } }];
}

function resume(endpointId: string, by: string, state: WebhooksState): WebhooksEvent[] {
  const endpoint = existing(state, endpointId);
  if (endpoint.status === 'enabled')
    throw conflict('webhooks.not_paused', 'This webhook endpoint is neither paused nor disabled.', { endpointId });
  return [{ type: 'endpoint.resumed', data: { endpointId, by } }];
}

function rotate(command: RotateEndpointSecret, state: WebhooksState): WebhooksEvent[] {
  existing(state, command.endpointId);
  if (!Number.isInteger(command.overlapMs) || command.overlapMs < 0 || command.overlapMs > MAX_SECRET_OVERLAP_MS) {
    throw badRequest(
      'webhooks.bad_overlap',
      `The previous secret may keep signing for 0 to ${MAX_SECRET_OVERLAP_MS / 3_600_000} hours, got ${command.overlapMs} ms.`,
      { overlapMs: command.overlapMs, maxMs: MAX_SECRET_OVERLAP_MS },
    );
  }
  const previousValidUntil = new Date(command.at.getTime() + command.overlapMs).toISOString();
  return [
    { type: 'endpoint.secret_rotated', data: { endpointId: command.endpointId, by: command.by, previousValidUntil } },
  ];
}

function remove(endpointId: string, by: string, state: WebhooksState): WebhooksEvent[] {
  existing(state, endpointId);
  return [{ type: 'endpoint.deleted', data: { endpointId, by } }];
}

function disable(command: DisableEndpoint, state: WebhooksState): WebhooksEvent[] {
  const endpoint = existing(state, command.endpointId);
  if (endpoint.status === 'disabled')
    throw conflict('webhooks.already_disabled', 'This webhook endpoint is already disabled.', {
      endpointId: endpoint.id,
    });
  return [
    {
      type: 'endpoint.disabled',
      data: {
        endpointId: endpoint.id,
        reason: command.reason,
        failingSince: command.failingSince.toISOString(),
        at: command.at.toISOString(),
      },
    },
  ];
}

function decide(command: WebhooksCommand, state: WebhooksState): WebhooksEvent[] {
  switch (command.type) {
    case 'CreateEndpoint':
      return create(command, state);
    case 'UpdateEndpoint':
      return update(command, state);
    case 'PauseEndpoint':
      return pause(command.endpointId, command.by, state);
    case 'ResumeEndpoint':
      return resume(command.endpointId, command.by, state);
    case 'RotateEndpointSecret':
      return rotate(command, state);
    case 'DeleteEndpoint':
      return remove(command.endpointId, command.by, state);
    case 'DisableEndpoint':
      return disable(command, state);
    default:
      return assertUnreachable(command);
  }
}

/** The webhook endpoints decider. */
export const webhooksDecider: Decider<WebhooksCommand, WebhooksEvent, WebhooksState> = {
  initialState: initialWebhooksState,
  evolve,
  decide,
};
