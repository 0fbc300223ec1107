import type { ExpectedRevision } from './event-store';

/** Thrown by `appendToStream` when the stream is not at the expected revision. */
export class WrongExpectedRevisionError extends Error {
  override readonly name = 'WrongExpectedRevisionError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** `undefined` when the stream does not exist. */
    readonly actual: bigint | undefined,
  ) {
    super(
      `stream ${streamId}: expected revision ${String(expected)}, actual ${actual === undefined ? 'no stream' : String(actual)}`,
    );
  }
}

/** Thrown when some, but not all, of the event ids in an append are already stored. */
export class DuplicateEventIdError extends Error {
  override readonly name = 'DuplicateEventIdError';
  constructor(
    readonly streamId: string,
    readonly eventIds: readonly string[],
  ) {
    super(`stream ${streamId}: events ${eventIds.join(', ')} are already stored with a different batch`);
  }
}

/** Thrown for arguments the store cannot accept (empty batch, bad stream id). */
export class InvalidAppendError extends Error {
  override readonly name = 'InvalidAppendError';
}
