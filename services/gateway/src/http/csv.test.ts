import { describe, expect, it } from 'vitest';
import { csvField, csvLine, csvText } from './csv';

describe('csv', () => {
  it('leaves plain fields alone and writes null as empty', () => {
    expect(csvLine(['a', 42, null, '2025-03-01T10:00:00.000Z'])).toBe('a,42,,2025-03-01T10:00:00.000Z\r\n');
  });

  it('quotes fields with a comma, a quote, CR or LF, doubling quotes', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField('lf\nonly')).toBe('"lf\nonly"');
    expect(csvField('')).toBe('');
  });

  it('keeps text that would start a spreadsheet formula as text', () => {
    for (const formula of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx'])
      expect(csvText(formula), formula).toBe(`'${formula}`);
    expect(csvText('Acme = Co')).toBe('Acme = Co');
    expect(csvText('')).toBe('');
  });
});
