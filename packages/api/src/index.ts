/**
 * `@quorum/api`: the typed client for the web app and for TypeScript integrators, and (from
 * `@quorum/api/schemas`) the input schemas of the gateway's own procedures. The wire format is
 * plain JSON (no transformer), so clients in other languages call the same endpoints over HTTP.
 *
 * The router's type is not here: it is the gateway's (`@quorum/gateway/router`), and a library
 * never depends on a deployable, not even for a type, or every consumer of the contract would
 * compile the gateway. A caller passes it in: `createQuorumClient<AppRouter>(...)`.
 */
import { createTRPCClient, httpBatchLink, httpLink, type TRPCClient, type TRPCLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';

/** A router without a transformer, as the gateway's is: requests and answers are plain JSON. */
export type PlainJsonRouter = AnyTRPCRouter & { _def: { _config: { $types: { transformer: false } } } };

export interface QuorumClientOptions {
  /** Base URL of Quorum, e.g. `http://localhost:3000`. */
  baseUrl: string;
  /** A Bearer access token, or a function returning the current one. */
  token?: string | (() => string | undefined);
  /** An API key (`qk_...`), scoped to one organization. */
  apiKey?: string;
  /** Batch concurrent calls into one HTTP request (default true). */
  batch?: boolean;
  /** For runtimes without a global fetch, or to pass credentials: 'include'. */
  fetch?: typeof fetch;
}

/**
 * A typed client over HTTP for `TRouter`, the gateway's `AppRouter`:
 * `createQuorumClient<AppRouter>({ baseUrl })` with `import type { AppRouter } from '@quorum/gateway/router'`.
 */
export function createQuorumClient<TRouter extends PlainJsonRouter>(options: QuorumClientOptions): TRPCClient<TRouter> {
  const headers = () => {
    const h: Record<string, string> = {};
    const token = typeof options.token === 'function' ? options.token() : options.token;
    if (token) h.authorization = `Bearer ${token}`;
    if (options.apiKey) h['x-api-key'] = options.apiKey;
    return h;
  };
  const url = `${options.baseUrl.replace(/\/$/, '')}/trpc`;
  const linkOptions = { url, headers, ...(options.fetch ? { fetch: options.fetch } : {}) };
  // The gateway takes at most 50 calls per batch; the link splits larger ones.
  const link =
    options.batch === false
      ? httpLink<PlainJsonRouter>(linkOptions)
      : httpBatchLink<PlainJsonRouter>({ ...linkOptions, maxItems: 50 });
  // A link does not depend on the procedures, only on the transformer, which TRouter is
  // constrained to lack; TypeScript cannot see that through a generic TRouter's link options.
  return createTRPCClient<TRouter>({ links: [link as TRPCLink<TRouter>] });
}
