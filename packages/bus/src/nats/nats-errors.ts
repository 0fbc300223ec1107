/** NATS driver errors translated to `BusError`, once, here at the edge. */
import { ErrorCode, NatsError } from 'nats';
import { BusError } from '../bus-error';

// JetStream API error codes (server/errors.json).
export const JS_STREAM_NOT_FOUND = 10059;
export const JS_CONSUMER_NOT_FOUND = 10014;

export function apiErrorCode(error: unknown): number | undefined {
  return error instanceof NatsError ? error.api_error?.err_code : undefined;
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Driver errors to `BusError`. */
export function translate(error: unknown, action: string): BusError {
  if (error instanceof BusError) return error;
  const message = `${action}: ${describe(error)}`;
  if (!(error instanceof NatsError)) return new BusError('REJECTED', message, { cause: error });
  switch (error.code) {
    case ErrorCode.Timeout:
    case ErrorCode.JetStream408RequestTimeout:
      return new BusError('TIMEOUT', message, { cause: error });
    case ErrorCode.NoResponders:
      // On publish: no stream captures the subject. On API calls: JetStream is not enabled.
      return new BusError(action.startsWith('publish') ? 'REJECTED' : 'UNAVAILABLE', message, { cause: error });
    case ErrorCode.ConnectionClosed:
    case ErrorCode.ConnectionDraining:
      return new BusError('CLOSED', message, { cause: error });
    case ErrorCode.Disconnect:
    case ErrorCode.ConnectionRefused:
    case ErrorCode.ConnectionTimeout:
      return new BusError('UNAVAILABLE', message, { cause: error });
    default:
      return new BusError('REJECTED', message, { cause: error });
  }
}
