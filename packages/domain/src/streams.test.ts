import { describe, expect, it } from 'vitest';
import { categoryOf, streamIds, usagePeriodOf } from './streams';

const ORG = '00000000-0000-4000-8000-00000000000a';

describe('streamIds', () => {
  it('builds every stream id and reads its category back', () => {
    expect(streamIds.organization(ORG)).toBe(`organization-${ORG}`);
    expect(streamIds.seats(ORG)).toBe(`seats-${ORG}`);
    expect(streamIds.session('s-1')).toBe('session-s-1');
    expect(streamIds.usage(ORG, '202501')).toBe(`usage-${ORG}-202501`);
    expect(categoryOf(streamIds.organization(ORG))).toBe('organization');
    expect(categoryOf(streamIds.seats(ORG))).toBe('seats');
    expect(categoryOf(streamIds.session('s-1'))).toBe('session');
    expect(categoryOf(streamIds.usage(ORG, '202512'))).toBe('usage');
  });

  it('refuses a malformed usage period and unknown categories', () => {
    expect(() => streamIds.usage(ORG, '2025-01')).toThrow(/yyyymm/);
    expect(() => streamIds.usage(ORG, '202513')).toThrow(/yyyymm/);
    for (const bad of ['invoicing-1', 'organization', 'organization-', '-x']) {
      expect(() => categoryOf(bad)).toThrow(/not a known stream id/);
    }
  });

  it('derives the UTC usage period of a date', () => {
    expect(usagePeriodOf(new Date('2025-03-31T23:59:59.000Z'))).toBe('202503');
    expect(usagePeriodOf(new Date('2025-12-01T00:00:00.000Z'))).toBe('202512');
  });
});
