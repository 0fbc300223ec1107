import { CopyLink } from '../MembersPage';

/** A signing secret shown once (after create or rotate) or on request, with a copy button. */
export function SecretBox({ secret, intro, onDone }: { secret: string; intro: string; onDone: () => void }) {
  return (
    <div className="callout" role="region" aria-label="Endpoint signing secret" data-testid="webhook-secret-box">
      <p>{intro}</p>
      <div className="copy-row">
        <input
          readOnly
          value={secret}
          aria-label="Endpoint signing secret"
          data-testid="webhook-secret"
          onFocus={(e) => e.currentTarget.select()}
        />
        <CopyLink link={secret} label="Copy signing secret" text="Copy secret" />
      </div>
      <button type="button" className="secondary" onClick={onDone}>
        I have stored it
      </button>
    </div>
  );
}
