import { describe, expect, it } from 'vitest';
import { given } from '../testing/given-when-then';
import { MAX_ENDPOINTS_PER_ORG, MAX_SECRET_OVERLAP_MS } from './webhooks.commands';
import { liveEndpoints, webhooksDecider as decider } from './webhooks.decider';
import type { WebhooksEvent } from './webhooks.events';

const ORG = '00000000-0000-4000-8000-00000000000a';
const ALICE = '00000000-0000-4000-8000-000000000001';
const EP = '00000000-0000-4000-8000-0000000000e1';
const EP2 = '00000000-0000-4000-8000-0000000000e2';
const T0 = new Date('2025-01-01T10:00:00.000Z');
const URL_A = 'https://hooks.example.com/quorum';
const URL_B = 'https://hooks.example.com/quorum/v2';

const created = (endpointId = EP, eventTypes: string[] = ['member.joined']): WebhooksEvent => ({
  type: 'endpoint.created',
  data: { endpointId, url: URL_A, description: 'CRM sync', eventTypes, createdBy: ALICE },
});
const paused: WebhooksEvent = { type: 'endpoint.paused', data: { endpointId: EP, by: ALICE } };
const deleted: WebhooksEvent = { type: 'endpoint.deleted', data: { endpointId: EP, by: ALICE } };
const disabled: WebhooksEvent = {
  type: 'endpoint.disabled',
  data: { endpointId: EP, reason: 'gone', failingSince: T0.toISOString(), at: T0.toISOString() },
};
const ref = { orgId: ORG, endpointId: EP, by: ALICE, at: T0 } as const;

describe('CreateEndpoint', () => {
  const create = {
    type: 'CreateEndpoint',
    orgId: ORG,
    endpointId: EP,
    url: URL_A,
    description: 'CRM sync',
    eventTypes: ['member.joined', 'member.joined', 'seat.assigned'],
    by: ALICE,
    at: T0,
  } as const;

  it('subscribes an enabled endpoint to the public types given, each once', () => {
    given(decider)
      .when(create)
      .then([
        {
          type: 'endpoint.created',
          data: {
            endpointId: EP,
            url: URL_A,
            description: 'CRM sync',
            eventTypes: ['member.joined', 'seat.assigned'],
            createdBy: ALICE,
          },
        },
      ]);
  });

  it('takes no event types as every public type', () => {
    given(decider)
      .when({ ...create, eventTypes: [] })
      .then([created(EP, [])]);
  });

  it('refuses types that are not public, listing each (BAD_REQUEST)', () => {
    const error = given(decider)
      .when({ ...create, eventTypes: ['member.joined', 'billing.sync_failed', 'nothing.here'] })
      .thenThrows('BAD_REQUEST', 'webhooks.unknown_event_types');
    expect(error.details).toEqual({ eventTypes: ['billing.sync_failed', 'nothing.here'] });
    expect(error.message).toContain('billing.sync_failed, nothing.here');
  });

  it('refuses an id already used, even by a deleted endpoint (CONFLICT)', () => {
    given(decider, [created()]).when(create).thenThrows('CONFLICT', 'webhooks.endpoint_exists');
    given(decider, [created(), deleted]).when(create).thenThrows('CONFLICT', 'webhooks.endpoint_exists');
  });

  it(`refuses a ${MAX_ENDPOINTS_PER_ORG + 1}st endpoint; deleted ones do not count`, () => {
    const full = Array.from({ length: MAX_ENDPOINTS_PER_ORG }, (_, i) =>
      created(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`),
    );
    const error = given(decider, full)
      .when({ ...create, endpointId: EP2 })
      .thenThrows('PRECONDITION_FAILED', 'webhooks.endpoint_limit');
    expect(error.details).toEqual({ max: MAX_ENDPOINTS_PER_ORG, endpoints: MAX_ENDPOINTS_PER_ORG });
    const oneDeleted: WebhooksEvent = {
      type: 'endpoint.deleted',
      data: { endpointId: full[0]!.data.endpointId, by: ALICE },
    };
    given(decider, [...full, oneDeleted])
      .when({ ...create, endpointId: EP2, eventTypes: [] })
      .then([{ ...created(EP2, []) }]);
  });
});

describe('UpdateEndpoint', () => {
  it('records the whole new values, keeping what was not given', () => {
    given(decider, [created()])
      .when({ type: 'UpdateEndpoint', ...ref, url: URL_B })
      .then([
        {
          type: 'endpoint.updated',
          data: {
            endpointId: EP,
            url: URL_B,
            description: 'CRM sync',
            eventTypes: ['member.joined'],
            updatedBy: ALICE,
          },
        },
      ]);
    given(decider, [created()])
      .when({ type: 'UpdateEndpoint', ...ref, eventTypes: [], description: '' })
      .then([
        {
          type: 'endpoint.updated',
          data: { endpointId: EP, url: URL_A, description: '', eventTypes: [], updatedBy: ALICE },
        },
      ]);
  });

  it('refuses a change to nothing (PRECONDITION_FAILED)', () => {
    given(decider, [created()])
      .when({ type: 'UpdateEndpoint', ...ref, url: URL_A, eventTypes: ['member.joined'] })
      .thenThrows('PRECONDITION_FAILED', 'webhooks.unchanged');
  });

  it('refuses internal event types (BAD_REQUEST)', () => {
    given(decider, [created()])
      .when({ type: 'UpdateEndpoint', ...ref, eventTypes: ['billing.usage_reported'] })
      .thenThrows('BAD_REQUEST', 'webhooks.unknown_event_types');
  });

  it('refuses an unknown or deleted endpoint (NOT_FOUND)', () => {
    given(decider)
      .when({ type: 'UpdateEndpoint', ...ref, url: URL_B })
      .thenThrows('NOT_FOUND', 'webhooks.endpoint_not_found');
    given(decider, [created(), deleted])
      .when({ type: 'UpdateEndpoint', ...ref, url: URL_B })
      .thenThrows('NOT_FOUND', 'webhooks.endpoint_deleted');
  });
});

describe('PauseEndpoint and ResumeEndpoint', () => {
  it('pauses an enabled endpoint and resumes it', () => {
    given(decider, [created()])
      .when({ type: 'PauseEndpoint', ...ref })
      .then([paused]);
    given(decider, [created(), paused])
      .when({ type: 'ResumeEndpoint', ...ref })
      .then([{ type: 'endpoint.resumed', data: { endpointId: EP, by: ALICE } }]);
  });

  it('resumes an endpoint Quorum disabled', () => {
    const state = given(decider, [created(), disabled]).state;
    expect(state.endpoints.get(EP)).toMatchObject({ status: 'disabled', disabledReason: 'gone' });
    given(decider, [created(), disabled])
      .when({ type: 'ResumeEndpoint', ...ref })
      .then([{ type: 'endpoint.resumed', data: { endpointId: EP, by: ALICE } }]);
    const resumed = given(decider, [
      created(),
      disabled,
      { type: 'endpoint.resumed', data: { endpointId: EP, by: ALICE } },
    ]);
    expect(resumed.state.endpoints.get(EP)).toMatchObject({ status: 'enabled', disabledReason: null });
  });

  it('refuses to pause twice (CONFLICT), or a disabled endpoint (PRECONDITION_FAILED)', () => {
    given(decider, [created(), paused])
      .when({ type: 'PauseEndpoint', ...ref })
      .thenThrows('CONFLICT', 'webhooks.already_paused');
    given(decider, [created(), disabled])
      .when({ type: 'PauseEndpoint', ...ref })
      .thenThrows('PRECONDITION_FAILED', 'webhooks.endpoint_disabled');
  });

  it('refuses to resume an enabled endpoint (CONFLICT) or a deleted one (NOT_FOUND)', () => {
    given(decider, [created()])
      .when({ type: 'ResumeEndpoint', ...ref })
      .thenThrows('CONFLICT', 'webhooks.not_paused');
    given(decider, [created(), paused, deleted])
      .when({ type: 'ResumeEndpoint', ...ref })
      .thenThrows('NOT_FOUND', 'webhooks.endpoint_deleted');
  });
});

describe('RotateEndpointSecret', () => {
  it('keeps the previous secret signing for the overlap asked for', () => {
    given(decider, [created()])
      .when({ type: 'RotateEndpointSecret', ...ref, overlapMs: 3_600_000 })
      .then([
        {
          type: 'endpoint.secret_rotated',
          data: { endpointId: EP, by: ALICE, previousValidUntil: '2025-01-01T11:00:00.000Z' },
        },
      ]);
  });

  it('takes no overlap (the previous secret stops at once) and at most a week', () => {
    given(decider, [created(), paused])
      .when({ type: 'RotateEndpointSecret', ...ref, overlapMs: 0 })
      .then([
        { type: 'endpoint.secret_rotated', data: { endpointId: EP, by: ALICE, previousValidUntil: T0.toISOString() } },
      ]);
    for (const overlapMs of [-1, MAX_SECRET_OVERLAP_MS + 1, 1.5]) {
      given(decider, [created()])
        .when({ type: 'RotateEndpointSecret', ...ref, overlapMs })
        .thenThrows('BAD_REQUEST', 'webhooks.bad_overlap');
    }
  });

  it('refuses a deleted endpoint (NOT_FOUND)', () => {
    given(decider, [created(), deleted])
      .when({ type: 'RotateEndpointSecret', ...ref, overlapMs: 0 })
      .thenThrows('NOT_FOUND', 'webhooks.endpoint_deleted');
  });
});

describe('DeleteEndpoint', () => {
  it('deletes an endpoint in any status but deleted', () => {
    for (const history of [[created()], [created(), paused], [created(), disabled]]) {
      given(decider, history)
        .when({ type: 'DeleteEndpoint', ...ref })
        .then([deleted]);
    }
    given(decider, [created(), deleted])
      .when({ type: 'DeleteEndpoint', ...ref })
      .thenThrows('NOT_FOUND', 'webhooks.endpoint_deleted');
    given(decider)
      .when({ type: 'DeleteEndpoint', ...ref })
      .thenThrows('NOT_FOUND', 'webhooks.endpoint_not_found');
  });

  it('frees its place among the live endpoints', () => {
    const { state } = given(decider, [created(), created(EP2), deleted]);
    expect(liveEndpoints(state).map((e) => e.id)).toEqual([EP2]);
  });
});

describe('DisableEndpoint', () => {
  const disable = {
    type: 'DisableEndpoint',
    orgId: ORG,
    endpointId: EP,
    reason: 'gone',
    failingSince: T0,
    at: T0,
  } as const;

  it('disables an enabled or paused endpoint, once', () => {
    given(decider, [created()]).when(disable).then([disabled]);
    given(decider, [created(), paused]).when(disable).then([disabled]);
    given(decider, [created(), disabled]).when(disable).thenThrows('CONFLICT', 'webhooks.already_disabled');
  });
});
