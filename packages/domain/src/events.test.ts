import { describe, expect, it } from 'vitest';
import { AppError } from './errors';
import {
  EVENT_SCHEMAS,
  createEventParser,
  currentVersionOf,
  isDomainEventType,
  parseEvent,
  parseEventData,
  type DomainEventType,
  type EventRegistry,
} from './events';
import { categoryOf, streamIds } from './streams';

import {
  EVENT_SAMPLES,
  ORG,
  USER,
  billingSamples,
  organizationSamples,
  seatsSamples,
  sessionSamples,
  usageSamples,
  webhooksSamples,
} from './testing/event-samples';

function refusal(fn: () => unknown): AppError | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  return undefined;
}

describe('EVENT_SCHEMAS', () => {
  it('covers every event type of every union, and nothing else', () => {
    expect(Object.keys(EVENT_SCHEMAS).sort()).toEqual(
      [
        ...Object.keys(organizationSamples),
        ...Object.keys(seatsSamples),
        ...Object.keys(sessionSamples),
        ...Object.keys(usageSamples),
        ...Object.keys(billingSamples),
        ...Object.keys(webhooksSamples),
      ].sort(),
    );
  });

  it("puts each union's events in its stream category", () => {
    for (const type of Object.keys(organizationSamples) as DomainEventType[]) {
      expect(EVENT_SCHEMAS[type].category).toBe(categoryOf(streamIds.organization(ORG)));
    }
    for (const type of Object.keys(seatsSamples) as DomainEventType[]) {
      expect(EVENT_SCHEMAS[type].category).toBe(categoryOf(streamIds.seats(ORG)));
    }
    for (const type of Object.keys(sessionSamples) as DomainEventType[]) {
      expect(EVENT_SCHEMAS[type].category).toBe(categoryOf(streamIds.session(USER)));
    }
    for (const type of Object.keys(usageSamples) as DomainEventType[]) {
      expect(EVENT_SCHEMAS[type].category).toBe(categoryOf(streamIds.usage(ORG, '202501')));
    }
    for (const type of Object.keys(billingSamples) as DomainEventType[]) {
      expect(EVENT_SCHEMAS[type].category).toBe(categoryOf(streamIds.billing(ORG)));
    }
    for (const type of Object.keys(webhooksSamples) as DomainEventType[]) {
      expect(EVENT_SCHEMAS[type].category).toBe(categoryOf(streamIds.webhooks(ORG)));
    }
  });

  it('names events in dotted past tense and describes each in one sentence', () => {
    for (const [type, entry] of Object.entries(EVENT_SCHEMAS)) {
      // dotted, with a past-tense verb (`seat.assigned`, `organization.marked_past_due`, `participant.left`)
      expect(type).toMatch(/^[a-z]+(_[a-z]+)*\.([a-z]+_)*([a-z]+ed|left|paid)(_[a-z]+)*$/);
      expect(entry.description).toMatch(/^[A-Z].*\.$/);
      expect(entry.version).toBeGreaterThanOrEqual(1);
      expect(currentVersionOf(type as DomainEventType)).toBe(entry.version);
    }
  });

  it('accepts a valid sample of every event type', () => {
    for (const [type, data] of Object.entries(EVENT_SAMPLES)) {
      expect(isDomainEventType(type)).toBe(true);
      expect(parseEvent({ type, version: 1, data })).toEqual({ type, data });
    }
  });
});

describe('parseEventData', () => {
  it('refuses an unknown type, an unsupported version and invalid data (BAD_REQUEST)', () => {
    expect(refusal(() => parseEvent({ type: 'seat.polished', version: 1, data: {} }))).toMatchObject({
      code: 'BAD_REQUEST',
      reason: 'events.unknown_type',
    });
    expect(refusal(() => parseEventData('seat.assigned', 2, { userId: USER }))).toMatchObject({
      reason: 'events.unsupported_version',
    });
    expect(refusal(() => parseEventData('seat.assigned', 0, { userId: USER }))).toMatchObject({
      reason: 'events.unsupported_version',
    });
    expect(refusal(() => parseEventData('seats.purchased', 1, { quantity: -1, total: 0 }))).toMatchObject({
      reason: 'events.invalid_data',
    });
  });

  it('upcasts older versions step by step before validating', () => {
    // A registry where seat.assigned is at v3; v1 stored `user`, v2 stored `holder`.
    const registry: EventRegistry = {
      ...EVENT_SCHEMAS,
      'seat.assigned': { ...EVENT_SCHEMAS['seat.assigned'], version: 3 },
    };
    const parse = createEventParser(registry, {
      'seat.assigned': {
        1: (data) => ({ holder: (data as { user: string }).user }),
        2: (data) => ({ userId: (data as { holder: string }).holder }),
      },
    });
    expect(parse('seat.assigned', 1, { user: USER })).toEqual({ userId: USER });
    expect(parse('seat.assigned', 2, { holder: USER })).toEqual({ userId: USER });
    expect(parse('seat.assigned', 3, { userId: USER })).toEqual({ userId: USER });
    expect(refusal(() => createEventParser(registry, {})('seat.assigned', 1, { user: USER }))).toMatchObject({
      reason: 'events.missing_upcaster',
    });
  });
});
