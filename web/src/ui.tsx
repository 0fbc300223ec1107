/** Small accessible building blocks: labelled fields, buttons that show progress, notices. */
import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, useState } from 'react';

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  error?: string | undefined;
  hint?: string;
}

export function Field({ label, error, hint, id, ...input }: FieldProps) {
  const auto = useId();
  const inputId = id ?? auto;
  const describedBy =
    [hint ? `${inputId}-hint` : '', error ? `${inputId}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <input id={inputId} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
      {hint ? (
        <p id={`${inputId}-hint`} className="hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${inputId}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

interface SelectProps extends SelectHTMLAttributes<HTMLSelectElement> {
  label: string;
  error?: string | undefined;
  options: ReadonlyArray<{ value: string; label: string; disabled?: boolean }>;
}

export function Select({ label, error, options, id, ...select }: SelectProps) {
  const auto = useId();
  const selectId = id ?? auto;
  return (
    <div className="field">
      <label htmlFor={selectId}>{label}</label>
      <select
        id={selectId}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${selectId}-error` : undefined}
        {...select}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value} disabled={o.disabled}>
            {o.label}
          </option>
        ))}
      </select>
      {error ? (
        <p id={`${selectId}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function SubmitButton({
  pending,
  children,
  pendingText,
  disabled,
  className,
}: {
  pending: boolean;
  children: ReactNode;
  pendingText: string;
  disabled?: boolean;
  className?: string;
}) {
  return (
    <button
      type="submit"
      className={className ?? 'primary'}
      disabled={pending || disabled}
      aria-busy={pending || undefined}
    >
      {pending ? pendingText : children}
    </button>
  );
}

/** A form-level error, read out at once. */
/**
 * A destructive action in two steps: the first click asks, the second (focused) confirms;
 * Cancel goes back. `subject` names what is acted on, for the accessible labels.
 */
export function ConfirmAction({
  verb,
  verbing,
  subject,
  pending,
  onConfirm,
}: {
  verb: string;
  verbing: string;
  subject: string;
  pending: boolean;
  onConfirm: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <button
        type="button"
        className="danger-outline"
        onClick={() => setConfirming(true)}
        aria-label={`${verb} ${subject}`}
      >
        {verb}
      </button>
    );
  }
  return (
    <span className="confirm">
      <button type="button" className="danger" onClick={onConfirm} disabled={pending} autoFocus>
        {pending ? `${verbing}…` : `${verb} ${subject}?`}
      </button>
      <button type="button" className="secondary" onClick={() => setConfirming(false)} disabled={pending}>
        Cancel
      </button>
    </span>
  );
}

export function FormError({ text }: { text: string | undefined }) {
  if (!text) return null;
  return (
    <p role="alert" className="form-error">
      {text}
    </p>
  );
}

/** Why a control is not offered to this role. */
export function NotAllowed({ children }: { children: ReactNode }) {
  return (
    <p className="not-allowed" data-testid="not-allowed">
      <span aria-hidden="true">🔒 </span>
      {children}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}

export function LoadError({ error, retry }: { error: string; retry?: () => void }) {
  return (
    <div role="alert" className="form-error">
      <p>{error}</p>
      {retry ? (
        <button type="button" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

const ROLE_WORDS: Record<string, string> = {
  owner: 'Owner',
  admin: 'Admin',
  billing: 'Billing',
  host: 'Host',
  member: 'Member',
};
export function roleLabel(role: string): string {
  return ROLE_WORDS[role] ?? role;
}

const ROLE_PLURALS: Record<string, string> = {
  owner: 'owners',
  admin: 'admins',
  billing: 'billing members',
  host: 'hosts',
  member: 'members',
};

/** "owners and billing members" from the roles that may do something. */
export function rolesSentence(roles: readonly string[]): string {
  const words = roles.map((r) => ROLE_PLURALS[r] ?? r);
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}
