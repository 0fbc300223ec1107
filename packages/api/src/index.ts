/**
 * `@quorum/api`: the API's router type and a typed client, for the web app and for
 * TypeScript integrators. The wire format is plain JSON (no transformer), so clients in
 * other languages call the same endpoints over HTTP.
 */
import { createTRPCClient, httpBatchLink, httpLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '@quorum/gateway/router';

export type { AppRouter };

/** Input schemas of the auth and API key procedures, to validate forms with the server's rules. */
export { CreateApiKeyInputSchema, LoginInputSchema, SignUpInputSchema } from '@quorum/gateway/schemas';

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

/** A typed client over HTTP. */
export function createQuorumClient(options: QuorumClientOptions): TRPCClient<AppRouter> {
  const headers = () => {
    const h: Record<string, string> = {};
    const token = typeof options.token === 'function' ? options.token() : options.token;
    if (token) h.authorization = `Bearer ${token}`;
    if (options.apiKey) h['x-api-key'] = options.apiKey;
    return h;
  };
  const url = `${options.baseUrl.replace(/\/$/, '')}/trpc`;
  const linkOptions = { url, headers, ...(options.fetch ? { fetch: options.fetch } : {}) };
  return createTRPCClient<AppRouter>({
    // The gateway takes at most 50 calls per batch; the link splits larger ones.
    links: [options.batch === false ? httpLink(linkOptions) : httpBatchLink({ ...linkOptions, maxItems: 50 })],
  });
}
