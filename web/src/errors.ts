/** Turns failures into words for people, and the server's field errors into a map by field. */
import { isQuorumError } from './trpc';

export function errorMessage(err: unknown): string {
  if (isQuorumError(err)) {
    if (err.data?.code === 'TOO_MANY_REQUESTS' || err.data?.code === 'TIMEOUT') return err.message;
    // A network failure has no data: say so instead of a bare "Failed to fetch".
    if (!err.data && /fetch|network/i.test(err.message))
      return 'Quorum could not be reached. Check your connection and try again.';
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}

/** `{ quantity: 'Too small…' }` from the server's `fieldErrors`, keyed by the dotted path. */
export function serverFieldErrors(err: unknown): Record<string, string> {
  if (!isQuorumError(err)) return {};
  const list = (err.data as { fieldErrors?: Array<{ path: string; message: string }> } | undefined)?.fieldErrors ?? [];
  const out: Record<string, string> = {};
  for (const f of list) out[f.path] ??= f.message;
  return out;
}

export function errorCode(err: unknown): string | undefined {
  return isQuorumError(err) ? err.data?.code : undefined;
}

/** The server's reason slug of a refusal (`data.reason`, such as `session.minutes_exhausted`). */
export function errorReason(err: unknown): string | undefined {
  return isQuorumError(err) ? err.data?.reason : undefined;
}
