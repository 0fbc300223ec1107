/** CSV as RFC 4180 has it: comma-separated fields, CRLF line ends, quoted when they must be. */

const MUST_QUOTE = /[",\r\n]/;

/** One field: quoted (inner quotes doubled) when it holds a comma, a quote, CR or LF. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return MUST_QUOTE.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF-terminated. */
export function csvLine(fields: ReadonlyArray<string | number | null>): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
