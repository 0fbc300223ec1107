/**
 * Errors of `/v1` as JSON, `{ error: { code, reason, message, fieldErrors?, requestId } }`, with
 * the HTTP status tRPC gives the same error over `/trpc`.
 */
import type { ServerResponse } from 'node:http';
import { AppError } from '@quorum/domain';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { fieldErrorsOf, mappedError, type FieldError } from '../trpc';

export interface V1ErrorBody {
  error: { code: string; reason: string; message: string; fieldErrors?: FieldError[]; requestId: string };
}

/** An error of the adapter itself (no route, wrong method, a body too large). */
export class V1HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: TRPCError['code'],
    readonly reason: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Input that failed a route's own schema (path or query), reported like the procedure's. */
export class V1InputError extends Error {
  constructor(readonly fieldErrors: FieldError[]) {
    super(`Invalid input: ${fieldErrors.map((f) => `${f.path}: ${f.message}`).join('; ')}`);
  }
}

/** `where` prefixes each path: `query.limit`. */
export function inputErrorOf(where: 'path' | 'query', error: ZodError): V1InputError {
  return new V1InputError(
    fieldErrorsOf(error).map((f) => ({ ...f, path: f.path === '(input)' ? where : `${where}.${f.path}` })),
  );
}

/** The status and body of `err`; an unexpected one is logged and hidden behind the request id. */
export function errorAnswer(
  err: unknown,
  requestId: string,
  log: Logger,
): { status: number; body: V1ErrorBody; headers: Record<string, string> } {
  if (err instanceof V1HttpError)
    return {
      status: err.status,
      headers: err.headers,
      body: { error: { code: err.code, reason: err.reason, message: err.message, requestId } },
    };
  if (err instanceof V1InputError)
    return {
      status: 400,
      headers: {},
      body: {
        error: {
          code: 'BAD_REQUEST',
          reason: 'input.invalid',
          message: err.message,
          fieldErrors: err.fieldErrors,
          requestId,
        },
      },
    };
  const trpc = err instanceof TRPCError ? err : err instanceof AppError ? mappedError(err) : undefined;
  if (!trpc || trpc.code === 'INTERNAL_SERVER_ERROR') {
    log.error({ err: trpc?.cause ?? err }, '/v1 request failed');
    return {
      status: 500,
      headers: {},
      body: {
        error: {
          code: 'INTERNAL_SERVER_ERROR',
          reason: 'internal',
          message: `Internal error (request ${requestId}).`,
          requestId,
        },
      },
    };
  }
  const cause = trpc.cause;
  const fieldErrors = cause instanceof ZodError ? fieldErrorsOf(cause) : undefined;
  const reason = cause instanceof AppError ? cause.reason : fieldErrors ? 'input.invalid' : trpc.code.toLowerCase();
  const message = fieldErrors
    ? `Invalid input: ${fieldErrors.map((f) => `${f.path}: ${f.message}`).join('; ')}`
    : trpc.message;
  return {
    status: getHTTPStatusCodeFromError(trpc),
    headers: {},
    body: { error: { code: trpc.code, reason, message, ...(fieldErrors ? { fieldErrors } : {}), requestId } },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { ...headers, 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
