/**
 * The router's procedures as the gateway's tests see them, on either transport: their types by
 * dotted path, and values of the right shape that name nothing.
 */
import { appRouter } from '../router';

/** A token of the right shape that accepts nothing. */
export const UNKNOWN_INVITATION_TOKEN = `qinv_${'A'.repeat(43)}`;

/** Every procedure of the router by dotted path, with its type (query, mutation or subscription). */
export function procedureTypes(): Record<string, string> {
  // At run time `_def.procedures` is flat, keyed by dotted path; its static type is nested.
  return Object.fromEntries(
    Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>).map(
      ([path, p]) => [path, p._def.type],
    ),
  );
}
