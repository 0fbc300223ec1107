/**
 * A plain-HTTP tRPC caller, as an integrator without the typed client would write it:
 * POST /trpc/<path> with a JSON body for mutations, GET /trpc/<path>?input=<json> for queries.
 */
export interface CallOptions {
  token?: string;
  apiKey?: string;
  idempotencyKey?: string;
  cookie?: string;
  /** A service token (`x-quorum-service-token`), as the SFU sends. */
  serviceToken?: string;
}

export interface TrpcFailure {
  status: number;
  code: string;
  message: string;
  fieldErrors?: Array<{ path: string; message: string }>;
  reason?: string;
}

export class TrpcCallError extends Error {
  constructor(readonly failure: TrpcFailure) {
    super(`${failure.code}: ${failure.message}`);
  }
}

export function createHttpClient(baseUrl: string) {
  async function send(method: 'GET' | 'POST', path: string, input: unknown, o: CallOptions = {}) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.apiKey) headers['x-api-key'] = o.apiKey;
    if (o.idempotencyKey) headers['idempotency-key'] = o.idempotencyKey;
    if (o.cookie) headers.cookie = o.cookie;
    if (o.serviceToken) headers['x-quorum-service-token'] = o.serviceToken;
    const url =
      method === 'GET'
        ? `${baseUrl}/trpc/${path}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`
        : `${baseUrl}/trpc/${path}`;
    const res = await fetch(url, {
      method,
      headers,
      ...(method === 'POST' ? { body: JSON.stringify(input ?? {}) } : {}),
    });
    const body = (await res.json()) as {
      result?: { data: unknown };
      error?: { message: string; data: { code: string; fieldErrors?: TrpcFailure['fieldErrors']; reason?: string } };
    };
    if (body.error) {
      throw new TrpcCallError({
        status: res.status,
        code: body.error.data.code,
        message: body.error.message,
        ...(body.error.data.fieldErrors ? { fieldErrors: body.error.data.fieldErrors } : {}),
        ...(body.error.data.reason ? { reason: body.error.data.reason } : {}),
      });
    }
    return { data: body.result!.data, response: res };
  }
  // Tests read answers of many shapes over raw HTTP; T defaults to any so each call site does not
  // restate the procedure's output type (the typed path is createQuorumClient).
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    mutation: async <T = any>(path: string, input: unknown, o?: CallOptions) =>
      (await send('POST', path, input, o)).data as T,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    query: async <T = any>(path: string, input?: unknown, o?: CallOptions) =>
      (await send('GET', path, input, o)).data as T,
    raw: send,
  };
}

/** Resolves the failure of a call that must fail. */
export async function failure(p: Promise<unknown>): Promise<TrpcFailure> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TrpcCallError) return err.failure;
    throw err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
