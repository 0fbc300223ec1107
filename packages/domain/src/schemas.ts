import { z } from 'zod';

/** Ids (organizations, users, invitations) are uuids chosen by the caller. */
export const IdSchema = z.uuid();

/** An email address, trimmed and lower-cased so comparisons are exact. */
export const EmailSchema = z.string().trim().toLowerCase().pipe(z.email().max(254));

/** An organization's display name: 1 to 100 characters after trimming. */
export const OrgNameSchema = z.string().trim().min(1).max(100);

/** An ISO 8601 UTC timestamp as stored in event data. */
export const IsoDateTimeSchema = z.iso.datetime();
