import { z } from 'zod';

/** Ids (organizations, users, invitations) are uuids chosen by the caller. */
export const IdSchema = z.uuid();

/** An email address, trimmed and lower-cased so comparisons are exact. */
export const EmailSchema = z.string().trim().toLowerCase().pipe(z.email().max(254));

/** An organization's display name: 1 to 100 characters after trimming. */
export const OrgNameSchema = z.string().trim().min(1).max(100);

/**
 * Control characters (C0, DEL, C1; NUL among them, which PostgreSQL refuses in text) and UTF-16
 * surrogates without their pair (no UTF-8 encodes one). With the `u` flag a paired surrogate is
 * one code point outside `Cs`, so emoji pass.
 */
const NOT_PLAIN_TEXT = /[\p{Cc}\p{Cs}]/u;

/**
 * `schema` refusing control characters and unpaired surrogates, for names and titles people
 * type, at the edge. Event data keeps the plain shapes: events written before this check may
 * hold a tab or a line break, and must still read.
 */
export function plainText(schema: z.ZodString): z.ZodString {
  return schema.refine(
    (text) => !NOT_PLAIN_TEXT.test(text),
    'must not contain control characters (such as NUL or a line break) or unpaired UTF-16 surrogates',
  );
}

/** An ISO 8601 UTC timestamp as stored in event data. */
export const IsoDateTimeSchema = z.iso.datetime();
