/**
 * Closed set of failure kinds an {@link EventBus} adapter reports. Driver errors are translated
 * into these at the adapter edge so callers never depend on `nats` error shapes.
 *
 * - `INVALID`: the caller passed a bad subject, durable name or payload; nothing was published.
 * - `UNAVAILABLE`: the server cannot be reached or JetStream is not enabled.
 * - `TIMEOUT`: the server did not answer in time; the message may or may not be stored.
 * - `REJECTED`: the server refused the message (e.g. no stream captures the subject).
 * - `NOT_ATTEMPTED`: an earlier message of the same batch failed, so this one was not sent.
 * - `CONFLICT`: a durable consumer exists with a configuration this call cannot reuse.
 * - `UNSUPPORTED`: the server version lacks a feature the call needs.
 * - `CLOSED`: the bus was closed.
 * - `DECODE`: a delivered message is not one this bus wrote (missing headers, bad JSON).
 */
export type BusErrorCode =
  | 'INVALID'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'REJECTED'
  | 'NOT_ATTEMPTED'
  | 'CONFLICT'
  | 'UNSUPPORTED'
  | 'CLOSED'
  | 'DECODE';

/** The one error type the bus package throws or reports. */
export class BusError extends Error {
  override readonly name = 'BusError';
  readonly code: BusErrorCode;

  constructor(code: BusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
