/**
 * Inputs of the finance review across every organization, for Quorum's operators:
 * `finance.orgs` (sorted, cursor-paged totals) and the CSV export (`GET /finance/export.csv`).
 * A period in the future is refused by the gateway, which knows the time; everything else is
 * checked here, the cursor included: it is opaque to clients, and one made for another sort
 * or order is refused rather than answered with a page of another listing.
 */
import { IdSchema, UsagePeriodSchema } from '@quorum/domain';
import { z } from 'zod';

/** What `finance.orgs` sorts by: the name, a meter's billed minutes, or the overage amount. */
export const FinanceSortSchema = z.enum(['name', 'participantMinutes', 'meetingMinutes', 'overage']);
export type FinanceSort = z.infer<typeof FinanceSortSchema>;
export const FinanceOrderSchema = z.enum(['asc', 'desc']);
export type FinanceOrder = z.infer<typeof FinanceOrderSchema>;

/**
 * Where a page of `finance.orgs` ended: the sort and order it was made for, the last row's sort
 * key (its lower-cased name, or a whole number) and its organization id (the tie-break).
 */
export const FinanceCursorPayloadSchema = z.strictObject({
  sort: FinanceSortSchema,
  order: FinanceOrderSchema,
  key: z.union([z.string().max(400), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)]),
  orgId: IdSchema,
});
export type FinanceCursor = z.infer<typeof FinanceCursorPayloadSchema>;

const CURSOR_MESSAGE = 'must be the next cursor of a previous page';

/** The `next` of a page: the cursor as base64url of its JSON. */
export function encodeFinanceCursor(cursor: FinanceCursor): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(JSON.stringify(cursor))) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** The cursor `text` encodes, or undefined when it encodes none. */
export function decodeFinanceCursor(text: string): FinanceCursor | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text) || text.length % 4 === 1) return undefined;
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    // Not UTF-8 (TypeError) or not JSON (SyntaxError): no cursor of ours.
    if (err instanceof TypeError || err instanceof SyntaxError) return undefined;
    throw err;
  }
  const parsed = FinanceCursorPayloadSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** A `finance.orgs` cursor as sent, decoded. */
export const FinanceCursorSchema = z
  .string()
  .max(1_024, CURSOR_MESSAGE)
  .transform((text, ctx) => {
    const cursor = decodeFinanceCursor(text);
    if (cursor) return cursor;
    ctx.addIssue({ code: 'custom', message: CURSOR_MESSAGE });
    return z.NEVER;
  });

/** The fields of `finance.orgs`, for a caller that adds its own (the gateway's `minPosition`). */
export const FinanceOrgsShape = {
  period: UsagePeriodSchema,
  sort: FinanceSortSchema.default('name'),
  order: FinanceOrderSchema.default('asc'),
  cursor: FinanceCursorSchema.optional(),
  limit: z.number().int().min(1).max(500).default(100),
};

/** Refuses a cursor made for another sort or order than the input's. */
export function refineFinanceCursor(
  input: { sort: FinanceSort; order: FinanceOrder; cursor?: FinanceCursor | undefined },
  ctx: z.RefinementCtx,
): void {
  const cursor = input.cursor;
  if (!cursor) return;
  if (cursor.sort !== input.sort || cursor.order !== input.order)
    ctx.addIssue({
      code: 'custom',
      path: ['cursor'],
      message: `is a cursor of sort ${cursor.sort} ${cursor.order}, not of ${input.sort} ${input.order}`,
    });
  else if ((cursor.sort === 'name') !== (typeof cursor.key === 'string'))
    ctx.addIssue({ code: 'custom', path: ['cursor'], message: CURSOR_MESSAGE });
}

/** `finance.orgs`: every organization's usage totals and overage in one month, sorted, a page at a time. */
export const FinanceOrgsInputSchema = z.object(FinanceOrgsShape).superRefine(refineFinanceCursor);
export type FinanceOrgsInput = z.input<typeof FinanceOrgsInputSchema>;
export type FinanceOrgsQuery = z.output<typeof FinanceOrgsInputSchema>;

/** The CSV export of every organization's month (query parameters of `GET /finance/export.csv`). */
export const FinanceExportInputSchema = z.object({ period: UsagePeriodSchema });
export type FinanceExportInput = z.infer<typeof FinanceExportInputSchema>;
