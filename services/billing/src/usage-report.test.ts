import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addedMinutes } from './usage-report';

describe('addedMinutes', () => {
  it('adds up, over any month in any order of intervals, to the total rounded up once', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3_600 }), { maxLength: 200 }), (seconds) => {
        let before = 0;
        let minutes = 0;
        for (const s of seconds) {
          const m = addedMinutes(before, s);
          expect(m).toBeGreaterThanOrEqual(0);
          minutes += m;
          before += s;
        }
        expect(minutes).toBe(Math.ceil(before / 60));
      }),
    );
  });

  it('counts a minute when the month first reaches into it', () => {
    expect(addedMinutes(0, 1)).toBe(1);
    expect(addedMinutes(1, 59)).toBe(0);
    expect(addedMinutes(60, 1)).toBe(1);
    expect(addedMinutes(90, 30)).toBe(0);
    expect(addedMinutes(119, 122)).toBe(3);
  });
});
