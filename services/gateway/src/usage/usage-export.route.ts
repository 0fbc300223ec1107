/**
 * `GET /usage/export.csv?orgId=&period=[&minPosition=]`: one month's usage events as CSV, one
 * row per `usage.recorded` event with its id and the ids of the session events it came from.
 * The caller must be allowed `usage.records`. Served as every CSV download is
 * (`http/csv-export.ts`); rows are read from Postgres a page at a time (keyset on position),
 * each page already written as CSV by Postgres (`UsageRepository.csvPages`) to the line
 * {@link usageCsvFields} gives, so a month of a million rows costs no object per row.
 */
import { UsageExportInputSchema } from '@quorum/api/schemas';
import type { z } from 'zod';
import type { GatewayDeps } from '../deps';
import { createCsvExportRoute, type CsvExport, type CsvFields } from '../http/csv-export';
import { authorizePeriodRead } from '../period-access';
import { MinPositionSchema } from '../trpc';
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

/**
 * A record's fields in {@link USAGE_CSV_COLUMNS}: the line `UsageRepository.csvPages` has
 * Postgres write for it is `csvLine` of these, which its integration test holds it to.
 */
export function usageCsvFields(period: string, r: UsageRecord): CsvFields {
  return [
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
  ];
}

export const usageExport: CsvExport<z.infer<typeof QuerySchema>> = {
  path: USAGE_EXPORT_PATH,
  action: 'usage.export',
  query: QuerySchema,
  authorize: (ctx, input) => authorizePeriodRead(ctx, input, 'usage.records'),
  filename: (input) => `usage-${input.orgId}-${input.period}.csv`,
  columns: USAGE_CSV_COLUMNS,
  pages: (ctx, input) => ctx.deps.usage.csvPages(input.orgId, input.period),
  describe: (input) => ({ orgId: input.orgId, period: input.period }),
};

/** The handler of {@link USAGE_EXPORT_PATH}, for `GatewayServer.routeRequest`. */
export function createUsageExportRoute(deps: GatewayDeps) {
  return createCsvExportRoute(deps, usageExport);
}
