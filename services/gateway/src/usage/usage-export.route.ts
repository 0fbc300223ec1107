/**
 * `GET /usage/export.csv?orgId=&period=[&minPosition=]`: one month's usage events as CSV
 * (RFC 4180, a header row, one row per `usage.recorded` event with its id and the ids of the
 * session events it came from). Plain HTTP, so a browser can download it and a spreadsheet can
 * open it; the caller is authenticated as for `/trpc` (session cookie, Bearer token or API
 * key) and must be allowed `usage.records`. Refusals are tRPC's error JSON with its statuses,
 * so a client handles them as any procedure's.
 *
 * Rows are read from Postgres a page at a time (keyset on position) and written as the socket
 * takes them: a month of any size costs one page of memory.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UsageExportInputSchema } from '@quorum/api/schemas';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { createRequestContext } from '../context';
import type { GatewayDeps } from '../deps';
import { fieldErrorsOf, mappedError, MinPositionSchema, type FieldError } from '../trpc';
import { authorizePeriodRead } from '../period-access';
import { csvLine } from './csv';
import type { UsageRecord } from './usage.repository';

export const USAGE_EXPORT_PATH = '/usage/export.csv';

const QuerySchema = UsageExportInputSchema.extend({ minPosition: MinPositionSchema });

export const USAGE_CSV_COLUMNS = [
  'event_id',
  'position',
  'period',
  'meter',
  'day',
  'from',
  'to',
  'seconds',
  'session_id',
  'host_user_id',
  'participant_id',
  'stint',
  'sources',
] as const;

function row(period: string, r: UsageRecord): string {
  return csvLine([
    r.eventId,
    r.position,
    period,
    r.meter,
    r.day,
    r.from,
    r.to,
    r.seconds,
    r.sessionId,
    r.hostUserId,
    r.participantId,
    r.stint,
    r.sources.join(' '),
  ]);
}

class BadQuery extends Error {
  constructor(readonly fieldErrors: FieldError[]) {
    super(`Invalid input: ${fieldErrors.map((f) => `${f.path}: ${f.message}`).join('; ')}`);
  }
}

function refuse(res: ServerResponse, error: TRPCError, extra: { fieldErrors?: FieldError[]; reason?: string }): void {
  const httpStatus = getHTTPStatusCodeFromError(error);
  res.writeHead(httpStatus, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(
    JSON.stringify({
      error: {
        message: error.message,
        code: TRPC_ERROR_CODES_BY_KEY[error.code],
        data: { code: error.code, httpStatus, path: 'usage.export', ...extra },
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

async function serve(deps: GatewayDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    throw new TRPCError({ code: 'METHOD_NOT_SUPPORTED', message: `${USAGE_EXPORT_PATH} answers GET only.` });
  }
  const ctx = await createRequestContext(deps, req, res);
  if (!ctx.principal)
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Log in, or send a Bearer access token or an x-api-key.' });
  deps.credentials.assertValid(ctx.principal);
  const url = new URL(req.url ?? '/', 'http://gateway');
  const parsed = QuerySchema.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) throw new BadQuery(fieldErrorsOf(parsed.error));
  const input = parsed.data;
  const authed = { ...ctx, principal: ctx.principal };
  await authorizePeriodRead(authed, input, 'usage.records');

  res.writeHead(200, {
    'content-type': 'text/csv; charset=utf-8; header=present',
    'content-disposition': `attachment; filename="usage-${input.orgId}-${input.period}.csv"`,
    'cache-control': 'no-store',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  res.write(csvLine(USAGE_CSV_COLUMNS));
  let rows = 0;
  for await (const page of deps.usage.allRecords(input.orgId, input.period)) {
    // The client went away: stop reading (leaving the loop ends the reader's paging).
    if (res.destroyed) return;
    rows += page.length;
    if (!res.write(page.map((r) => row(input.period, r)).join(''))) await drained(res);
  }
  res.end();
  ctx.log.info({ orgId: input.orgId, period: input.period, rows }, 'usage exported');
}

/** The handler of {@link USAGE_EXPORT_PATH}, for `GatewayServer.routeRequest`. */
export function createUsageExportRoute(deps: GatewayDeps) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    serve(deps, req, res).catch((err: unknown) => {
      if (res.headersSent) {
        // Rows were sent: end the transfer broken, so no client takes a short file for the month.
        deps.logger.error({ err, path: USAGE_EXPORT_PATH }, 'usage export failed while streaming');
        res.destroy(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (err instanceof BadQuery) {
        refuse(res, new TRPCError({ code: 'BAD_REQUEST', message: err.message }), { fieldErrors: err.fieldErrors });
        return;
      }
      const mapped = mappedError(err);
      if (mapped) {
        const reason = (mapped.cause as { reason?: string } | undefined)?.reason;
        refuse(res, mapped, reason ? { reason } : {});
        return;
      }
      if (err instanceof TRPCError && err.code !== 'INTERNAL_SERVER_ERROR') {
        refuse(res, err, {});
        return;
      }
      const requestId = randomUUID();
      deps.logger.error({ err, path: USAGE_EXPORT_PATH, requestId }, 'usage export failed');
      refuse(
        res,
        new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `Internal error (request ${requestId}).` }),
        {},
      );
    });
  };
}
