/** Totals of a month's usage events, as the gateway reads them to admit a join. */
import type { UsageEvent } from './usage.events';
import type { UsageMeter } from './usage.meter';

/**
 * Seconds of `meter` in `events` (one organization's `usage-<orgId>-<yyyymm>` stream, or the
 * part of it after a total already known, to add to `from`). Other meters and event types count
 * nothing.
 */
export function meteredSeconds(events: Iterable<UsageEvent>, meter: UsageMeter, from = 0): number {
  let total = from;
  for (const event of events) {
    if (event.type === 'usage.recorded' && event.data.meter === meter) total += event.data.seconds;
  }
  return total;
}
