/**
 * The events to apply for a delivery: every event in the store after the checkpoint, up to
 * the newest delivered position. JetStream hands a message lost in flight (a crash, a
 * dropped connection) back only after its ack wait, by which time newer messages have
 * arrived; applying those alone would move the checkpoint past the lost one and skip it
 * for good. The bus says how far to go; the store, which is the truth, says what is there.
 * Delivered messages the store does not hold (malformed, foreign) are kept, so they are
 * dead-lettered with their error rather than vanish.
 */
import type { DeliveredMessage } from '@quorum/bus';
import { toWireEvent, type EventStore } from '@quorum/eventstore';
import type { Logger } from 'pino';

/**
 * `delivered` with the gaps after `checkpoint` filled from `store`, in position order, up to
 * the newest delivered position or `upTo`, whichever is higher. Empty when all of it is at
 * or below the checkpoint.
 * @throws when a delivered position is past what the store lets readers see yet.
 */
export async function withGapsFilled(
  store: EventStore,
  logger: Logger,
  delivered: readonly DeliveredMessage[],
  checkpoint: bigint,
  upTo = -1n,
): Promise<DeliveredMessage[]> {
  const top = delivered.reduce((max, m) => (m.position > max ? m.position : max), upTo);
  if (top <= checkpoint) return [];
  const chained = followsOn(delivered, checkpoint, top);
  if (chained) return chained;
  const byId = new Map(delivered.map((m) => [m.id, m]));
  const out: DeliveredMessage[] = [];
  let cursor = checkpoint;
  const pageSize = 1_000;
  for (let more = true; more;) {
    const page = await store.readAll({ fromPosition: cursor, maxCount: pageSize });
    more = page.length === pageSize;
    for (const event of page) {
      if (event.position > top) {
        more = false;
        break;
      }
      const message = byId.get(event.id);
      byId.delete(event.id);
      out.push({
        id: event.id,
        subject: message?.subject ?? '(gap filled from the event store)',
        position: event.position,
        payload: toWireEvent(event),
        deliveryCount: message?.deliveryCount ?? 1,
      });
      cursor = event.position;
    }
  }
  if (out.length > 0 && out.length > delivered.length) {
    logger.info(
      { filled: out.length - delivered.length + byId.size, checkpoint: checkpoint.toString() },
      'filled a delivery gap from the event store',
    );
  }
  const missing = [...byId.values()].filter((m) => m.position > checkpoint);
  if (missing.length > 0) {
    // The relay publishes only what readers can see, but the store's visibility horizon
    // (PostgreSQL: the oldest open writing transaction) may still be short of a delivered
    // position here. Applying past it would skip what lies beneath, so wait for it instead.
    // A delivered position at or below the head that the store does not hold is not an
    // event of this store: keep it, so it is dead-lettered with its error.
    const head = await store.headPosition();
    const ahead = missing.find((m) => m.position > head);
    if (ahead)
      throw new Error(
        `event store head ${head} is behind delivered position ${ahead.position}; waiting for it to become visible`,
      );
    out.push(...missing);
  }
  return out.sort(byPosition);
}

/**
 * The delivered messages past `checkpoint`, in order, if they are every event of the store
 * from the checkpoint to `top`: the first names the checkpoint as its previous position and
 * each next one names the one before (the relay sets `previousPosition`). Then nothing is
 * missing and the store need not be read. `undefined` when any link is absent or broken: a
 * lost or late message, a subject filter, or a publisher that does not chain.
 */
export function followsOn(
  delivered: readonly DeliveredMessage[],
  checkpoint: bigint,
  top: bigint,
): DeliveredMessage[] | undefined {
  const ahead = delivered.filter((m) => m.position > checkpoint).sort(byPosition);
  let previous = checkpoint;
  for (const message of ahead) {
    if (message.previousPosition !== previous) return undefined;
    previous = message.position;
  }
  return previous === top && ahead.length > 0 ? ahead : undefined;
}

function byPosition(a: DeliveredMessage, b: DeliveredMessage): number {
  return a.position < b.position ? -1 : a.position > b.position ? 1 : 0;
}
