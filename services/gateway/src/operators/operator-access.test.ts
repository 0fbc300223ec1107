import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OperatorsEnvSchema } from '../env';
import type { Principal } from '../trpc';
import { OperatorAccess } from './operator-access';
import type { OperatorStanding } from './operators.repository';

const user = (userId: string): Principal => ({
  kind: 'user',
  userId,
  email: 'ignored@example.com',
  loginId: randomUUID(),
  expiresAt: 2_000_000_000,
});

/** Access over a fixed table of users, as the repository would answer from its tables. */
function access(users: OperatorStanding[], configured: string[] = []) {
  const byId = new Map(users.map((u) => [u.userId, u]));
  return new OperatorAccess({ standing: async (userId) => byId.get(userId) }, configured);
}

describe('OperatorAccess', () => {
  const id = randomUUID();

  it('takes a user named by id in configuration, and a user holding a grant', async () => {
    expect(await access([], [id]).isOperator(user(id))).toBe(true);
    const granted = { userId: id, email: 'fin@example.com', emailVerified: false, granted: true };
    expect(await access([granted]).isOperator(user(id))).toBe(true);
  });

  it('takes an address named in configuration only once its holder has verified it', async () => {
    const standing = { userId: id, email: 'fin@example.com', emailVerified: false, granted: false };
    expect(await access([standing], ['fin@example.com']).isOperator(user(id))).toBe(false);
    expect(await access([{ ...standing, emailVerified: true }], ['fin@example.com']).isOperator(user(id))).toBe(true);
  });

  it('refuses everyone else, and API keys always', async () => {
    const standing = { userId: id, email: 'fin@example.com', emailVerified: true, granted: false };
    const a = access([standing], ['other@example.com', randomUUID()]);
    expect(await a.isOperator(user(id))).toBe(false);
    expect(await a.isOperator(user(randomUUID()))).toBe(false);
    const key: Principal = { kind: 'apiKey', keyId: randomUUID(), orgId: randomUUID(), role: 'admin' };
    expect(await access([], [id]).isOperator(key)).toBe(false);
    await expect(a.assertOperator(user(id), 'finance.orgs')).rejects.toMatchObject({
      code: 'FORBIDDEN',
      reason: 'auth.not_operator',
    });
  });
});

describe('QUORUM_OPERATORS', () => {
  it('parses user ids and addresses, lower-cased, skipping blanks', () => {
    const id = randomUUID().toUpperCase();
    expect(OperatorsEnvSchema.parse(` Fin@Example.com ,, ${id} ,`)).toEqual(['fin@example.com', id.toLowerCase()]);
    expect(OperatorsEnvSchema.parse(undefined)).toEqual([]);
  });

  it('refuses an entry that is neither, naming it', () => {
    const parsed = OperatorsEnvSchema.safeParse('fin@example.com, finance team');
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message)).toEqual([
      '"finance team" is neither a user id nor an email address',
    ]);
  });
});
