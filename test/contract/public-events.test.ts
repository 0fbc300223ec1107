import {
  EVENT_SCHEMAS,
  PUBLIC_EVENTS,
  PUBLIC_EVENT_TYPES,
  isPublicEventType,
  publicSchemas,
  publicTypeOfCloudEventType,
  streamIds,
  toPublicEvent,
  type DomainEventType,
  type LoggedEvent,
} from '@quorum/domain';
import { EVENT_SAMPLES } from '@quorum/domain/testing';
import { CloudEvent, HTTP, ValidationError } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import { expectPublicEvent, publicContractValidator } from '../support/public-contract';

const BASE = 'https://quorum.example.com';
const ORG = '0b9d8f3e-6a4c-4f4e-9a43-2f8b5a7c1d01';
const SESSION = '5c1e2d3f-7a8b-4c9d-8e0f-1a2b3c4d5e6f';
const USER = '7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a';
const EVENT = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';

function logged(type: DomainEventType, data: unknown, over: Partial<LoggedEvent> = {}): LoggedEvent {
  return {
    id: EVENT,
    type,
    version: 1,
    streamId: streamIds.session(SESSION),
    orgId: ORG,
    position: 12345678901234567890n,
    occurredAt: new Date('2026-12-03T10:00:00.123Z'),
    data,
    ...over,
  };
}

describe('the public event contract', () => {
  it('compiles every JSON Schema it serves in strict mode, one per public type and the envelope', () => {
    const schemas = publicSchemas(BASE);
    expect(schemas.size).toBe(PUBLIC_EVENT_TYPES.length + 2);
    const validator = publicContractValidator(BASE);
    for (const type of PUBLIC_EVENT_TYPES)
      expect(validator.ajv.getSchema(`${BASE}${PUBLIC_EVENTS[type].schemaPath}`)).toBeTruthy();
  });

  it('publishes a valid envelope for a sample of every public type, valid against its served schema', () => {
    const validator = publicContractValidator(BASE);
    for (const type of PUBLIC_EVENT_TYPES) {
      const envelope = toPublicEvent(logged(type, EVENT_SAMPLES[type]), BASE);
      expect(envelope?.type).toBe(`quorum.${type}.v1`);
      expectPublicEvent(validator, envelope);
    }
  });

  it('keeps internal types out: Stripe sync bookkeeping and reconciliation are never published', () => {
    for (const type of [
      'billing.customer_linked',
      'billing.subscription_synced',
      'billing.usage_reported',
      'billing.sync_failed',
      'billing.sync_skipped',
      'billing.reconciliation_completed',
    ] as const) {
      expect(isPublicEventType(type)).toBe(false);
      expect(toPublicEvent(logged(type, {}), BASE)).toBeUndefined();
    }
    // Every other registered type is public, so a new type is a decision, not an accident.
    expect(PUBLIC_EVENT_TYPES.length).toBe(Object.keys(EVENT_SCHEMAS).length - 6);
  });

  it('builds a CloudEvents envelope whose data holds the public fields only', () => {
    const validator = publicContractValidator(BASE);
    const envelope = toPublicEvent(
      logged('participant.joined', {
        participantId: USER,
        displayName: 'Ada',
        isHost: true,
        at: '2026-12-03T10:00:00.000Z',
        node: 'sfu-a:1/run-7',
      }),
      `${BASE}/`,
    );
    expect(envelope).toEqual({
      specversion: '1.0',
      id: EVENT,
      source: `/orgs/${ORG}`,
      type: 'quorum.participant.joined.v1',
      subject: `session-${SESSION}`,
      time: '2026-12-03T10:00:00.123Z',
      datacontenttype: 'application/json',
      dataschema: `${BASE}/schemas/events/participant.joined.v1.json`,
      sequence: '12345678901234567890',
      data: { participantId: USER, displayName: 'Ada', isHost: true, at: '2026-12-03T10:00:00.000Z' },
    });
    expectPublicEvent(validator, envelope);

    const usage = toPublicEvent(
      logged(
        'usage.recorded',
        {
          meter: 'participant_minutes',
          sessionId: SESSION,
          hostUserId: USER,
          participantId: USER,
          stint: EVENT,
          period: '202612',
          from: '2026-12-03T10:00:00.000Z',
          to: '2026-12-03T10:05:00.000Z',
          seconds: 300,
          sources: [EVENT],
        },
        { streamId: `usage-${ORG}` },
      ),
      BASE,
    );
    expect(usage?.data).not.toHaveProperty('stint');
    expect(usage?.data).not.toHaveProperty('sources');
    expect(usage?.data).toMatchObject({ meter: 'participant_minutes', seconds: 300 });
    expectPublicEvent(validator, usage);
  });

  it('refuses data that is not valid for its type instead of publishing it', () => {
    expect(() => toPublicEvent(logged('member.removed', { userId: 'not-a-uuid' }), BASE)).toThrow(/invalid data/);
  });

  it('names each type with its version and maps the name back', () => {
    expect(PUBLIC_EVENTS['member.joined'].cloudEventType).toBe('quorum.member.joined.v1');
    expect(publicTypeOfCloudEventType('quorum.member.joined.v1')).toBe('member.joined');
    expect(publicTypeOfCloudEventType('quorum.member.joined.v2')).toBeUndefined();
    expect(publicTypeOfCloudEventType('quorum.billing.sync_failed.v1')).toBeUndefined();
    expect(publicTypeOfCloudEventType('member.joined')).toBeUndefined();
  });

  it('is read by the CloudEvents SDK as a third party would, from a structured-mode HTTP message', () => {
    const envelope = toPublicEvent(
      logged('member.removed', { userId: USER }, { streamId: streamIds.organization(ORG) }),
      BASE,
    );
    const received = HTTP.toEvent({
      headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
      body: JSON.stringify(envelope),
    });
    const first = Array.isArray(received) ? received[0] : received;
    expect(first).toBeInstanceOf(CloudEvent);
    const event = first as CloudEvent<unknown>;
    expect(event.validate()).toBe(true);
    expect(event.id).toBe(EVENT);
    expect(event.type).toBe('quorum.member.removed.v1');
    expect(event.source).toBe(`/orgs/${ORG}`);
    expect(event.subject).toBe(`organization-${ORG}`);
    expect(event.dataschema).toBe(`${BASE}/schemas/events/member.removed.v1.json`);
    expect(event['sequence']).toBe('12345678901234567890');
    expect(event.data).toEqual({ userId: USER });
    // The SDK enforces CloudEvents' attribute rules; an envelope missing `source` is refused.
    const { source: _source, ...withoutSource } = envelope ?? {};
    expect(() => new CloudEvent(withoutSource as never)).toThrow(ValidationError);
  });
});
