/**
 * The one error type of the domain. The gateway maps `code` to a tRPC code once, in
 * middleware; `reason` is a stable slug clients and tests may branch on; `message` is for
 * people and may be reworded at any time.
 */

/** Every code an {@link AppError} may carry; each maps 1:1 to a tRPC error code. */
export const APP_ERROR_CODES = [
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'TOO_MANY_REQUESTS',
] as const;

/** Closed set of error codes. */
export type AppErrorCode = (typeof APP_ERROR_CODES)[number];

/** Extra, non-secret facts about a refusal (limits, counts, ids) for clients and logs. */
export type AppErrorDetails = Readonly<Record<string, unknown>>;

/** A refusal or bad input, raised by deciders and input checks. */
export class AppError extends Error {
  override readonly name = 'AppError';
  /** Transport-independent category, mapped to a tRPC code by the gateway. */
  readonly code: AppErrorCode;
  /** Stable machine-readable slug, e.g. `seats.cap_exceeded`. */
  readonly reason: string;
  /** Optional structured facts about the refusal. */
  readonly details: AppErrorDetails | undefined;

  constructor(
    code: AppErrorCode,
    reason: string,
    message: string,
    options: { details?: AppErrorDetails; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = reason;
    this.details = options.details;
  }
}

/** Type guard for {@link AppError}, usable on `unknown` caught values. */
export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

type ErrorFactory = (reason: string, message: string, details?: AppErrorDetails) => AppError;

function factory(code: AppErrorCode): ErrorFactory {
  return (reason, message, details) => new AppError(code, reason, message, details === undefined ? {} : { details });
}

/** `BAD_REQUEST`: the input is malformed or out of range. */
export const badRequest: ErrorFactory = factory('BAD_REQUEST');
/** `UNAUTHORIZED`: no valid credentials. */
export const unauthorized: ErrorFactory = factory('UNAUTHORIZED');
/** `FORBIDDEN`: authenticated, but this actor may not do this. */
export const forbidden: ErrorFactory = factory('FORBIDDEN');
/** `NOT_FOUND`: the thing addressed does not exist. */
export const notFound: ErrorFactory = factory('NOT_FOUND');
/** `CONFLICT`: the thing to create already exists (or a concurrent write won). */
export const conflict: ErrorFactory = factory('CONFLICT');
/** `PRECONDITION_FAILED`: the current state does not allow this (limits, lifecycle, last owner). */
export const preconditionFailed: ErrorFactory = factory('PRECONDITION_FAILED');
/** `TOO_MANY_REQUESTS`: rate limited. */
export const tooManyRequests: ErrorFactory = factory('TOO_MANY_REQUESTS');
