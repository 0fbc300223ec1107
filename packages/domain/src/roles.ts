import { z } from 'zod';

/**
 * Roles of a member within an organization, most privileged first:
 * `owner` everything; `admin` people, seats and API keys; `billing` plan, seat purchases and
 * the event log; `host` and `member` read-only on the organization (hosts run meetings).
 */
export const ROLES = ['owner', 'admin', 'billing', 'host', 'member'] as const;

/** A member's role. */
export const RoleSchema = z.enum(ROLES);
/** A member's role. */
export type Role = z.infer<typeof RoleSchema>;
