/**
 * Client-side validation with the server's own zod schemas: a form is checked with exactly the
 * rules the gateway applies, so what passes here is refused only for reasons of state.
 */
import type { z } from 'zod';

export type FieldErrors = Record<string, string>;

export type Validation<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

/** Parses `values` with `schema`; on failure, the first message per dotted field path. */
export function validate<S extends z.ZodType>(schema: S, values: unknown): Validation<z.output<S>> {
  const result = schema.safeParse(values);
  if (result.success) return { ok: true, data: result.data };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const path = issue.path.map(String).join('.') || '(input)';
    errors[path] ??= humanize(issue.message);
  }
  return { ok: false, errors };
}

/** zod's default messages speak to developers; reword the common ones for people. */
export function humanize(message: string): string {
  if (/^Invalid email/i.test(message)) return 'Enter a valid email address.';
  const small = /^Too small: expected (?:string|number) to have >=?(\d+) characters?$/.exec(message);
  if (small) return `Enter at least ${small[1]} character${small[1] === '1' ? '' : 's'}.`;
  const big = /^Too big: expected (?:string) to have <=?(\d+) characters?$/.exec(message);
  if (big) return `Use at most ${big[1]} characters.`;
  const minNum = /^Too small: expected number to be >(=?)(\d+)$/.exec(message);
  if (minNum) return `Enter a number ${minNum[1] ? 'of at least' : 'greater than'} ${minNum[2]}.`;
  const maxNum = /^Too big: expected number to be <(=?)(\d+)$/.exec(message);
  if (maxNum) return `Enter a number ${maxNum[1] ? 'of at most' : 'less than'} ${maxNum[2]}.`;
  if (/expected int/i.test(message)) return 'Enter a whole number.';
  if (/expected number, received NaN/i.test(message)) return 'Enter a number.';
  return message;
}

/** A whole number from an `<input type="number">`, or NaN for an empty field. */
export function numberFrom(value: string): number {
  return value.trim() === '' ? Number.NaN : Number(value);
}
