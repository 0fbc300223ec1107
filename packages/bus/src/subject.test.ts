import { describe, expect, it } from 'vitest';
import { BusError } from './bus-error';
import { eventSubject, orgSubjectFilter, subjectMatches } from './subject';

describe('eventSubject', () => {
  it('builds evt.<orgId>.<category>.<type> with dots in the type replaced by _', () => {
    expect(eventSubject('org-1', 'seats', 'seat.assigned')).toBe('evt.org-1.seats.seat_assigned');
    expect(eventSubject('o', 'usage', 'usage.meter.recorded')).toBe('evt.o.usage.usage_meter_recorded');
  });

  it.each([
    ['', 'seats', 'seat.assigned'],
    ['org', '', 'seat.assigned'],
    ['org', 'seats', ''],
    ['org*', 'seats', 'x'],
    ['org', 'se>ats', 'x'],
    ['org', 'seats', 'a*b'],
    ['or g', 'seats', 'x'],
    ['org', 'seats', 'x\ty'],
    ['org.1', 'seats', 'x'],
    ['org', 'se.ats', 'x'],
  ])('rejects %j / %j / %j', (orgId, category, type) => {
    expect(() => eventSubject(orgId, category, type)).toThrow(BusError);
  });

  it('builds an org-wide filter', () => {
    expect(orgSubjectFilter('org-1')).toBe('evt.org-1.>');
    expect(() => orgSubjectFilter('a.b')).toThrow(BusError);
  });
});

describe('subjectMatches', () => {
  it.each([
    ['evt.>', 'evt.o.c.t', true],
    ['evt.>', 'evt', false],
    ['evt.o.>', 'evt.o.c.t', true],
    ['evt.o.>', 'evt.p.c.t', false],
    ['evt.*.c.*', 'evt.o.c.t', true],
    ['evt.*.c.*', 'evt.o.d.t', false],
    ['evt.o.c.t', 'evt.o.c.t', true],
    ['evt.o.c', 'evt.o.c.t', false],
    ['evt.o.c.t.u', 'evt.o.c.t', false],
  ])('%s vs %s → %s', (filter, subject, expected) => {
    expect(subjectMatches(filter, subject)).toBe(expected);
  });
});
