/**
 * Plain-HTTP CSV downloads (RFC 4180, a header row) gated like procedures: the usage export
 * and the operators' finance export are each a {@link CsvExport} served by
 * {@link createCsvExportRoute}. A browser can download one and a spreadsheet can open it; the
 * caller is authenticated as for `/trpc` (session cookie, Bearer token or API key), its
 * credential checked as every call's is, and refusals are tRPC's error JSON with its statuses,
 * so a client handles them as any procedure's.
 *
 * Rows are read a page at a time and written as the socket takes them: an export of any size
 * costs one page of memory. Once rows are sent a failure ends the transfer broken, so no client
 * takes a short file for a whole one.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { z } from 'zod';
import { createRequestContext } from '../context';
import type { GatewayDeps } from '../deps';
import { fieldErrorsOf, mappedError, type AuthedContext, type FieldError } from '../trpc';
import { csvLine } from './csv';

/** One CSV record's fields. */
export type CsvFields = ReadonlyArray<string | number | null>;

/** Records already written as CSV: CRLF-terminated lines, as `csvLine` writes them, and how many. */
export interface CsvText {
  csv: string;
  rows: number;
}

/** A page of an export: records' fields, or the records already formatted (read as CSV text). */
export type CsvPage = readonly CsvFields[] | CsvText;

/** A CSV download: where it is served, who may have it, and its rows. */
export interface CsvExport<I> {
  /** The route, e.g. `/usage/export.csv`. */
  path: string;
  /** The action its refusals name (`data.path`), as a procedure's would. */
  action: string;
  /** The query string's parameters. */
  query: z.ZodType<I>;
  /** Refuses a caller who may not have it, and input it cannot answer; runs before any row. */
  authorize(ctx: AuthedContext, input: I): Promise<void>;
  /** The name a browser saves it under. */
  filename(input: I): string;
  columns: readonly string[];
  /** The records, a page at a time; leaving the loop (the client went away) ends the paging. */
  pages(ctx: AuthedContext, input: I): AsyncIterable<CsvPage>;
  /** What the log line of a finished export says about it. */
  describe(input: I): Record<string, unknown>;
}

function isCsvText(page: CsvPage): page is CsvText {
  return !Array.isArray(page);
}

class BadQuery extends Error {
  constructor(readonly fieldErrors: FieldError[]) {
    super(`Invalid input: ${fieldErrors.map((f) => `${f.path}: ${f.message}`).join('; ')}`);
  }
}

function refuse(
  res: ServerResponse,
  action: string,
  error: TRPCError,
  extra: { fieldErrors?: FieldError[]; reason?: string },
): void {
  const httpStatus = getHTTPStatusCodeFromError(error);
  res.writeHead(httpStatus, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(
    JSON.stringify({
      error: {
        message: error.message,
        code: TRPC_ERROR_CODES_BY_KEY[error.code],
        data: { code: error.code, httpStatus, path: action, ...extra },
      },
    }),
  );
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const go = () => {
      res.off('drain', go);
      res.off('close', go);
      resolve();
    };
    res.once('drain', go);
    res.once('close', go);
  });
}

async function serve<I>(
  deps: GatewayDeps,
  spec: CsvExport<I>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    throw new TRPCError({ code: 'METHOD_NOT_SUPPORTED', message: `${spec.path} answers GET only.` });
  }
  const ctx = await createRequestContext(deps, req, res);
  if (!ctx.principal)
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Log in, or send a Bearer access token or an x-api-key.' });
  deps.credentials.assertValid(ctx.principal);
  const authed = { ...ctx, principal: ctx.principal };
  const url = new URL(req.url ?? '/', 'http://gateway');
  const parsed = spec.query.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) throw new BadQuery(fieldErrorsOf(parsed.error));
  const input = parsed.data;
  await spec.authorize(authed, input);

  res.writeHead(200, {
    'content-type': 'text/csv; charset=utf-8; header=present',
    'content-disposition': `attachment; filename="${spec.filename(input)}"`,
    'cache-control': 'no-store',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  res.write(csvLine(spec.columns));
  let rows = 0;
  for await (const page of spec.pages(authed, input)) {
    // The client went away: stop reading (leaving the loop ends the reader's paging).
    if (res.destroyed) return;
    const text = isCsvText(page) ? page : { csv: page.map(csvLine).join(''), rows: page.length };
    rows += text.rows;
    if (!res.write(text.csv)) await drained(res);
  }
  res.end();
  ctx.log.info({ ...spec.describe(input), rows, path: spec.path }, 'exported');
}

/** The handler of `spec.path`, for `GatewayServer.routeRequest`. */
export function createCsvExportRoute<I>(deps: GatewayDeps, spec: CsvExport<I>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    serve(deps, spec, req, res).catch((err: unknown) => {
      if (res.headersSent) {
        deps.logger.error({ err, path: spec.path }, 'export failed while streaming');
        res.destroy(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (err instanceof BadQuery) {
        refuse(res, spec.action, new TRPCError({ code: 'BAD_REQUEST', message: err.message }), {
          fieldErrors: err.fieldErrors,
        });
        return;
      }
      const mapped = mappedError(err);
      if (mapped) {
        const reason = (mapped.cause as { reason?: string } | undefined)?.reason;
        refuse(res, spec.action, mapped, reason ? { reason } : {});
        return;
      }
      if (err instanceof TRPCError && err.code !== 'INTERNAL_SERVER_ERROR') {
        refuse(res, spec.action, err, {});
        return;
      }
      const requestId = randomUUID();
      deps.logger.error({ err, path: spec.path, requestId }, 'export failed');
      refuse(
        res,
        spec.action,
        new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `Internal error (request ${requestId}).` }),
        {},
      );
    });
  };
}
