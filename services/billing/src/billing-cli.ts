/**
 * `npm run billing -w @quorum/billing -- <command>`: the operators' hold on the billing sync's
 * dead letters (calls Stripe refused for good). Needs the billing process's settings
 * (`DATABASE_URL`, `STRIPE_SECRET_KEY`, the prices; `ESDB_URL` when events live there).
 *
 *   dead-letters [--all]                                  open ones (--all: resolved ones too)
 *   retry <cause event id> <subscription|usage> [--by <name>]
 *   skip <cause event id> <subscription|usage> --reason <text> [--by <name>]
 *   reconcile <yyyymm> [--run <name>]                     compare the month with Stripe, print differences
 *
 * A retry sends the call again under a new Idempotency-Key; a skip records
 * `billing.sync_skipped` and never sends it. `--by` names who is acting; the account running
 * this by default. `reconcile` (needs `STRIPE_METER_ID`) appends `billing.reconciliation_completed`
 * for each organization with a Stripe Customer, once per run name (default: this minute), and
 * exits 1 when there is a difference.
 */
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { IdSchema, UsagePeriodSchema } from '@quorum/domain';
import { openPostgresStore } from '@quorum/runtime';
import { pino } from 'pino';
import { createBilling } from './compose';
import type { ReconcileRun } from './reconciler';
import { parseBillingEnv } from './env';

const USAGE =
  'usage: billing dead-letters [--all] | retry <event id> <subscription|usage> [--by <name>] | skip <event id> <subscription|usage> --reason <text> [--by <name>] | reconcile <yyyymm> [--run <name>]';

function usage(message?: string): never {
  process.stderr.write(`${message ? `${message}\n` : ''}${USAGE}\n`);
  process.exit(2);
}

let parsed: ReturnType<typeof parseCli>;
function parseCli() {
  return parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      all: { type: 'boolean', default: false },
      by: { type: 'string' },
      reason: { type: 'string' },
      run: { type: 'string' },
    },
  });
}
try {
  parsed = parseCli();
} catch (err) {
  // parseArgs throws TypeError (ERR_PARSE_ARGS_*) on an unknown or malformed option.
  if (!(err instanceof TypeError)) throw err;
  usage(err.message);
}
const [command, eventId, operation, ...extra] = parsed.positionals;
if (extra.length > 0) usage(`unexpected: ${extra.join(' ')}`);
if (command === 'dead-letters') {
  if (eventId !== undefined) usage();
} else if (command === 'retry' || command === 'skip') {
  if (!eventId || !IdSchema.safeParse(eventId).success) usage('the cause event id must be a uuid');
  if (operation !== 'subscription' && operation !== 'usage') usage('the operation is subscription or usage');
  if (command === 'skip' && !parsed.values.reason?.trim()) usage('skip needs --reason');
} else if (command === 'reconcile') {
  if (!eventId || !UsagePeriodSchema.safeParse(eventId).success) usage('the period is a month as yyyymm');
  if (operation !== undefined) usage(`unexpected: ${operation}`);
} else usage();

const env = parseBillingEnv();
if (!env.STRIPE_SECRET_KEY) usage('STRIPE_SECRET_KEY is not set: Stripe is not connected, there is no sync');
if (command === 'reconcile' && !env.STRIPE_METER_ID) usage('reconcile needs STRIPE_METER_ID (the Billing Meter id)');
const by = parsed.values.by?.trim() || `${userInfo().username}@${hostname()}`;
const logger = pino({ level: 'warn' });
const opened = await openPostgresStore({
  connectionString: env.DATABASE_URL,
  applicationName: 'quorum-billing-cli',
  esdbUrl: env.ESDB_URL,
  migratePublicSchema: true,
  logger,
});
let code = 0;
try {
  const billing = createBilling(env, { store: opened.store, sql: opened.sql, logger })!;
  if (command === 'dead-letters') {
    const letters = await billing.deadLetters({ all: parsed.values.all });
    if (letters.length === 0) process.stdout.write('no dead letters\n');
    for (const d of letters) {
      const state = d.resolvedAt ? `${d.resolution} by ${d.resolvedBy} at ${d.resolvedAt.toISOString()}` : 'open';
      process.stdout.write(
        `${d.causeEventId} ${d.operation} org ${d.orgId} ${d.causeType} attempts ${d.attempts} ${state}\n` +
          `  ${d.failedAt.toISOString()} ${d.error.statusCode ?? ''} ${d.error.type} ${d.error.code ?? ''}: ${d.error.message}\n`,
      );
    }
  } else if (command === 'retry') {
    const outcome = await billing.retry(eventId!, operation as 'subscription' | 'usage', by);
    process.stdout.write(outcome === 'retried' ? 'sent: Stripe took it\n' : 'refused again: see dead-letters\n');
    if (outcome === 'refused') code = 1;
  } else if (command === 'reconcile') {
    const run = parsed.values.run?.trim() || `cli-${new Date().toISOString().slice(0, 16)}`;
    const outcome = await billing.reconcile([eventId!], run);
    process.stdout.write(printRun(outcome));
    if (outcome.unavailable.length > 0 || outcome.reconciled.some((r) => r.data.differences.length > 0)) code = 1;
  } else {
    await billing.skip(eventId!, operation as 'subscription' | 'usage', by, parsed.values.reason!.trim());
    process.stdout.write('skipped\n');
  }
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  code = 1;
} finally {
  await opened.close();
}
process.exit(code);

function printRun(outcome: ReconcileRun): string {
  const out: string[] = [`run ${outcome.run}: ${outcome.reconciled.length} organization(s)`];
  for (const r of outcome.reconciled) {
    const f = r.data.figures;
    out.push(
      `org ${r.orgId} ${r.data.period} customer ${r.data.customerId}${r.appended ? '' : ' (already reconciled in this run)'}`,
      `  minutes: quorum ${f.quorumMinutes}, reported ${f.reportedMinutes}, Stripe's meter ${f.stripeMeterMinutes ?? '-'}, invoice ${f.invoiceMinutes ?? '-'}`,
      `  seats: purchased ${f.purchasedSeats}, subscription item ${f.subscriptionSeats ?? '-'}`,
    );
    if (r.data.differences.length === 0) out.push('  no difference');
    for (const d of r.data.differences) {
      out.push(`  DIFFERENCE ${d.compares}: quorum ${d.quorum}, other ${d.other ?? '-'}: ${d.detail}`);
      for (const e of d.events) out.push(`    ${e.type} ${e.eventId}: ${e.note}`);
      if (d.moreEvents > 0) out.push(`    … and ${d.moreEvents} more`);
    }
  }
  for (const u of outcome.unavailable) out.push(`org ${u.orgId} ${u.period}: Stripe unavailable: ${u.error}`);
  return `${out.join('\n')}\n`;
}
