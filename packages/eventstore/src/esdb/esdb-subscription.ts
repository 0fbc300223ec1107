import type { AllStreamResolvedEvent, AllStreamSubscription } from '@eventstore/db-client';
import type { AllSubscription, RecordedEvent } from '../event-store';
import { isSystem, toRecorded } from './esdb-mapping';

/** Buffered events above which the gRPC stream is paused until the consumer catches up. */
const HIGH_WATER = 256;
const LOW_WATER = 64;

/**
 * Adapts the client's `$all` subscription (a Node stream) to our `AllSubscription`. The
 * stream is consumed through events, not its async iterator, so `close()` can end a pending
 * `next()` at once instead of depending on how a cancelled gRPC call ends the stream.
 */
export function createSubscription(
  source: AllStreamSubscription | undefined,
  fromPosition: bigint,
  types: ReadonlySet<string> | undefined,
  onClose: () => void,
): AllSubscription {
  const queue: AllStreamResolvedEvent[] = [];
  let failure: Error | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  if (source) {
    source.on('data', (resolved: AllStreamResolvedEvent) => {
      queue.push(resolved);
      if (queue.length >= HIGH_WATER) source.pause();
      signal();
    });
    source.on('error', (err: Error) => {
      failure = err;
      signal();
    });
    source.on('end', () => {
      failure ??= new Error('EventStoreDB ended the $all subscription');
      signal();
    });
  }

  const close = async () => {
    if (closed) return;
    closed = true;
    onClose();
    signal();
    if (!source) return;
    try {
      await source.unsubscribe();
    } catch (err) {
      // The call never opened (e.g. the connection failed); there is nothing to cancel.
      process.emitWarning(`closing EventStoreDB subscription: ${(err as Error).message}`);
    }
    source.destroy();
  };

  async function* iterate(): AsyncGenerator<RecordedEvent> {
    let cursor = fromPosition;
    try {
      while (!closed) {
        const resolved = queue.shift();
        if (!resolved) {
          if (failure) throw failure;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          continue;
        }
        if (queue.length <= LOW_WATER && source?.isPaused()) source.resume();
        const event = resolved.event;
        // The server starts after `fromPosition`; the check also guards against a replay.
        if (!event || event.position.commit <= cursor) continue;
        cursor = event.position.commit;
        if (isSystem(event) || (types && !types.has(event.type))) continue;
        yield toRecorded(event);
      }
    } finally {
      await close();
    }
  }

  const generator = iterate();
  return {
    [Symbol.asyncIterator]: () => generator,
    close,
  };
}
