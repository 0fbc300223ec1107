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

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Free text a customer wrote (an organization's name), made safe to open in a spreadsheet:
 * one that would start a formula (`=`, `+`, `-`, `@`, tab, CR) is prefixed with `'`, which
 * spreadsheets show as text (OWASP's advice on CSV injection). Ids and numbers never need it.
 */
export function csvText(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}
