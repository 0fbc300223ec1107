/** How a webhook delivery reads in the console: its name, its state in words, exact times. */
import type { RouterOutputs } from '../../trpc';

export type DeliveryRow = RouterOutputs['webhookDeliveries']['list']['items'][number];
export type DeliveryStatus = DeliveryRow['status'];

export const DELIVERY_STATUS_WORDS: Record<DeliveryStatus, string> = {
  pending: 'Pending',
  delivered: 'Delivered',
  failed: 'Failed',
};

/** "member.invited 3f2a…" for headings and labels. */
export function deliveryTitle(d: Pick<DeliveryRow, 'eventType' | 'eventId'>): string {
  return `${d.eventType} ${d.eventId.slice(0, 8)}`;
}

/** To the second: attempts of one delivery are often seconds apart. */
export function formatInstant(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** What went wrong last, in words, or undefined when nothing did. */
export function lastProblem(d: Pick<DeliveryRow, 'lastError' | 'lastStatus' | 'status'>): string | undefined {
  if (d.status === 'delivered') return undefined;
  return d.lastError ?? (d.lastStatus !== null ? `answered ${d.lastStatus}` : undefined);
}

/** The value of a `datetime-local` input for `date`, in the browser's zone. */
export function toLocalInput(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}
