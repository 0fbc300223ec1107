/**
 * `GET /finance/export.csv?period=[&minPosition=]`: every organization's month as CSV, one row
 * per organization (the rows of `finance.orgs`, by name), for Quorum's operators only. Served
 * as every CSV download is (`http/csv-export.ts`); the operator is checked again before each
 * page after the first, so a revocation ends even an export under way (broken, not short).
 */
import { FinanceExportInputSchema } from '@quorum/api/schemas';
import type { z } from 'zod';
import { awaitPosition } from '../access';
import type { GatewayDeps } from '../deps';
import { createCsvExportRoute, type CsvExport } from '../http/csv-export';
import { MinPositionSchema } from '../trpc';
import { assertPeriodNotInFuture } from '../usage-periods';
import { FINANCE_CSV_COLUMNS, financeCsvFields } from './finance-row';
import { financeRows } from './finance-rows';

export const FINANCE_EXPORT_PATH = '/finance/export.csv';

const QuerySchema = FinanceExportInputSchema.extend({ minPosition: MinPositionSchema });

export const financeExport: CsvExport<z.infer<typeof QuerySchema>> = {
  path: FINANCE_EXPORT_PATH,
  action: 'finance.export',
  query: QuerySchema,
  async authorize(ctx, input) {
    await ctx.deps.operators.assertOperator(ctx.principal, 'finance.export');
    await awaitPosition(ctx, input.minPosition);
    assertPeriodNotInFuture(ctx, input.period);
  },
  filename: (input) => `finance-${input.period}.csv`,
  columns: FINANCE_CSV_COLUMNS,
  async *pages(ctx, input) {
    let first = true;
    for await (const page of ctx.deps.finance.allOrgs(input.period)) {
      if (!first) await ctx.deps.operators.assertOperator(ctx.principal, 'finance.export');
      first = false;
      yield (await financeRows(ctx, input.period, page)).map((row) => financeCsvFields(input.period, row));
    }
  },
  describe: (input) => ({ period: input.period }),
};

/** The handler of {@link FINANCE_EXPORT_PATH}, for `GatewayServer.routeRequest`. */
export function createFinanceExportRoute(deps: GatewayDeps) {
  return createCsvExportRoute(deps, financeExport);
}
