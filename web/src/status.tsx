/**
 * The app's status line: one polite live region that says what a mutation is doing and how it
 * ended ("Buying 5 seats…", "Bought 5 seats.", or the server's refusal in words), so screen
 * readers hear it and everyone sees it. `useAction` wraps a mutation with it.
 */
import { useMutation } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { errorMessage, serverFieldErrors } from './errors';
import { recordPosition } from './positions';

export type StatusKind = 'progress' | 'success' | 'error' | 'info';
interface Status {
  kind: StatusKind;
  text: string;
  id: number;
}

const StatusContext = createContext<(kind: StatusKind, text: string) => void>(() => undefined);

export function StatusProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status | undefined>();
  const announce = useCallback(
    (kind: StatusKind, text: string) => setStatus((s) => ({ kind, text, id: (s?.id ?? 0) + 1 })),
    [],
  );
  return (
    <StatusContext.Provider value={announce}>
      {children}
      <div className="status-bar" data-kind={status?.kind ?? 'none'}>
        <p role="status" aria-live="polite" aria-atomic="true" data-testid="status" className="status-text">
          {status?.text ?? ''}
        </p>
        {status && status.kind !== 'progress' ? (
          <button
            type="button"
            className="link-button"
            onClick={() => setStatus(undefined)}
            aria-label="Dismiss message"
          >
            ✕
          </button>
        ) : null}
      </div>
    </StatusContext.Provider>
  );
}

export function useAnnounce() {
  return useContext(StatusContext);
}

export interface ActionOptions<TIn, TOut> {
  /** "Buying 5 seats…" */
  progress: (input: TIn) => string;
  /** "Bought 5 seats." */
  success: (output: TOut, input: TIn) => string;
  /** The organization the positions of the answer belong to. */
  orgId?: string;
  onSuccess?: (output: TOut, input: TIn) => void;
}

/**
 * A mutation with progress and result in the status line; the answer's `position` becomes the
 * organization's `minPosition`, so the reads that follow include this write. `fieldErrors`
 * holds the server's per-field refusals.
 */
export function useAction<TIn, TOut>(fn: (input: TIn) => Promise<TOut>, options: ActionOptions<TIn, TOut>) {
  const announce = useAnnounce();
  const mutation = useMutation({
    mutationFn: fn,
    onMutate: (input) => announce('progress', options.progress(input)),
    onSuccess: (output, input) => {
      const position = (output as { position?: unknown } | null)?.position;
      if (typeof position === 'string') recordPosition(options.orgId, position);
      announce('success', options.success(output, input));
      options.onSuccess?.(output, input);
    },
    onError: (err) => announce('error', errorMessage(err)),
  });
  const fieldErrors = useMemo(() => serverFieldErrors(mutation.error), [mutation.error]);
  return Object.assign(mutation, { fieldErrors, errorText: mutation.error ? errorMessage(mutation.error) : undefined });
}
