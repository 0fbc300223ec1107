/**
 * Who is one of Quorum's operators (its finance team, who see every organization): a user named
 * in `QUORUM_OPERATORS` by id, or by an address they have verified, or holding an open grant in
 * the `operators` table (the command line's). An API key never is: keys belong to one
 * organization.
 *
 * Checked on every finance call, from the database rather than from memory: finance calls are
 * few, and a query per call means a revocation holds on the next call on every gateway and
 * every transport (a WebSocket's calls included), with no cache to wait out. A procedure or
 * feed that streams finance data must check again as it goes (the CSV export does, per page).
 */
import { AppError, type OperatorAction } from '@quorum/domain';
import type { Principal } from '../trpc';
import type { OperatorsRepository } from './operators.repository';

export const notOperator = (action: OperatorAction) =>
  new AppError('FORBIDDEN', 'auth.not_operator', `${action} is for Quorum's operators only.`, {
    details: { action },
  });

export class OperatorAccess {
  private readonly userIds: ReadonlySet<string>;
  private readonly emails: ReadonlySet<string>;

  /** `configured`: user ids and addresses as `QUORUM_OPERATORS` names them (parsed, lower-cased). */
  constructor(
    private readonly repo: Pick<OperatorsRepository, 'standing'>,
    configured: readonly string[] = [],
  ) {
    this.userIds = new Set(configured.filter((e) => !e.includes('@')).map((e) => e.toLowerCase()));
    this.emails = new Set(configured.filter((e) => e.includes('@')).map((e) => e.toLowerCase()));
  }

  /** Whether `principal` is an operator now. */
  async isOperator(principal: Principal): Promise<boolean> {
    if (principal.kind !== 'user') return false;
    if (this.userIds.has(principal.userId.toLowerCase())) return true;
    const user = await this.repo.standing(principal.userId);
    if (!user) return false;
    // An address counts only once proven: anyone may sign up with an operator's address first.
    return user.granted || (user.emailVerified && this.emails.has(user.email.toLowerCase()));
  }

  /** Throws FORBIDDEN (`auth.not_operator`) unless `principal` is an operator now. */
  async assertOperator(principal: Principal, action: OperatorAction): Promise<void> {
    if (!(await this.isOperator(principal))) throw notOperator(action);
  }
}
