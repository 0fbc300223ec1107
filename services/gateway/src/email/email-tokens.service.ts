/**
 * Secrets mailed to an address, to prove that whoever presents one reads mail there: the
 * sign-up verification link and the invitation link. 256 random bits, stored as a SHA-256 hash
 * (the table never holds a usable token), single use, expiring.
 */
import { createHmac } from 'node:crypto';
import type { EmailTokenRow } from '@quorum/db';
import { hashToken, newOpaqueToken } from '../auth/tokens';
import type { EmailTokenPurpose, EmailTokensRepository } from './email-tokens.repository';

const PREFIX: Record<EmailTokenPurpose, string> = { email: 'qev', invitation: 'qinv' };
/** What a presented token must look like before it is even hashed. */
export const EMAIL_TOKEN_PATTERN = /^q(ev|inv)_[A-Za-z0-9_-]{43}$/;

export class EmailTokensService {
  /** `secret`: the key invitation tokens are derived with (see `issue`). */
  constructor(
    private readonly repo: EmailTokensRepository,
    private readonly now: () => Date,
    private readonly secret: string,
  ) {}

  /**
   * A token for `subject` (a user id, an invitation id); only its hash is kept. With `derived`,
   * the token is an HMAC of the subject under the service's secret instead of random bits: as
   * unguessable without the secret, and the same for a retried command (an invitation retried
   * with its Idempotency-Key answers the same link). `fresh` is false when it was issued before.
   */
  async issue(
    purpose: EmailTokenPurpose,
    t: { subject: string; email: string; orgId?: string; expiresAt: Date; derived?: boolean },
  ): Promise<{ token: string; fresh: boolean }> {
    const token = t.derived
      ? `${PREFIX[purpose]}_${createHmac('sha256', this.secret).update(`${purpose}:${t.subject}`).digest('base64url')}`
      : newOpaqueToken(PREFIX[purpose]);
    const fresh = await this.repo.insert({
      tokenHash: hashToken(token),
      purpose,
      subject: t.subject,
      email: t.email,
      orgId: t.orgId ?? null,
      expiresAt: t.expiresAt,
    });
    return { token, fresh };
  }

  /** The token's row if it is usable now, without using it up. */
  async check(purpose: EmailTokenPurpose, token: string): Promise<EmailTokenRow | undefined> {
    if (!EMAIL_TOKEN_PATTERN.test(token) || !token.startsWith(`${PREFIX[purpose]}_`)) return undefined;
    return this.repo.findUsable(purpose, hashToken(token), this.now());
  }

  /** Uses the token up; its row, or undefined when it was not usable (a second use included). */
  async use(purpose: EmailTokenPurpose, token: string): Promise<EmailTokenRow | undefined> {
    if (!EMAIL_TOKEN_PATTERN.test(token) || !token.startsWith(`${PREFIX[purpose]}_`)) return undefined;
    return this.repo.use(purpose, hashToken(token), this.now());
  }
}
