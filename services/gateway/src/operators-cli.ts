/**
 * `npm run operators -w @quorum/gateway -- <command>`: grants and revokes operator access
 * (Quorum's own finance team, who see every organization), the only way besides configuration
 * (`QUORUM_OPERATORS`): no request of any client can. Needs `DATABASE_URL`, the database every
 * gateway reads grants from; each gateway checks them on every finance call, so a grant or a
 * revocation holds on the next call.
 *
 *   list [--all]                            open grants (--all: revoked ones too)
 *   grant <email | user id> [--by <name>]   an address must be verified
 *   revoke <email | user id> [--by <name>]
 *
 * `--by` names who is acting (kept in the table); the account running this by default.
 */
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { createKysely, createPgSqlDatabase, migratePublicSchema, type Database } from '@quorum/db';
import { EmailSchema, IdSchema } from '@quorum/domain';
import { parseOperatorsCliEnv } from './env';
import { OperatorsRepository, type OperatorStanding } from './operators/operators.repository';

const USAGE =
  'usage: operators list [--all] | grant <email | user id> [--by <name>] | revoke <email | user id> [--by <name>]';

function usage(message?: string): never {
  process.stderr.write(`${message ? `${message}\n` : ''}${USAGE}\n`);
  process.exit(2);
}

let parsed: ReturnType<typeof parseCli>;
function parseCli() {
  return parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { all: { type: 'boolean', default: false }, by: { type: 'string' } },
  });
}
try {
  parsed = parseCli();
} catch (err) {
  // parseArgs throws TypeError (ERR_PARSE_ARGS_*) on an unknown or malformed option.
  if (!(err instanceof TypeError)) throw err;
  usage(err.message);
}
const [command, target, ...extra] = parsed.positionals;
if (extra.length > 0) usage(`unexpected: ${extra.join(' ')}`);
if (command === 'list' ? target !== undefined : !['grant', 'revoke'].includes(command ?? '') || !target) usage();

const env = parseOperatorsCliEnv();
const by = parsed.values.by?.trim() || `${userInfo().username}@${hostname()}`;
const sql = createPgSqlDatabase({ connectionString: env.DATABASE_URL, max: 2, applicationName: 'quorum-operators' });

/** The user `text` names (a user id or an address), or a message saying why none. */
async function userNamed(
  repo: OperatorsRepository,
  text: string,
): Promise<{ user: OperatorStanding; byEmail: boolean } | string> {
  const id = IdSchema.safeParse(text);
  if (id.success) {
    const user = await repo.findUser({ id: id.data.toLowerCase() });
    return user ? { user, byEmail: false } : `no user with id ${text}`;
  }
  const email = EmailSchema.safeParse(text);
  if (!email.success) return `${text} is neither a user id nor an email address`;
  const user = await repo.findUser({ email: email.data });
  return user ? { user, byEmail: true } : `no user with address ${email.data}`;
}

try {
  // The table may be newer than the gateways that run: make sure it is there.
  await migratePublicSchema(sql);
  const repo = new OperatorsRepository(createKysely<Database>(sql));
  if (command === 'list') {
    const grants = await repo.list({ all: parsed.values.all });
    if (grants.length === 0) process.stdout.write('no operators granted from the command line\n');
    for (const g of grants)
      process.stdout.write(
        [
          g.userId,
          g.email,
          `granted ${g.grantedAt.toISOString()} by ${g.grantedBy}`,
          ...(g.revokedAt ? [`revoked ${g.revokedAt.toISOString()} by ${g.revokedBy ?? ''}`] : []),
        ].join('\t') + '\n',
      );
    if (env.QUORUM_OPERATORS.length > 0)
      process.stdout.write(`also named in QUORUM_OPERATORS here: ${env.QUORUM_OPERATORS.join(', ')}\n`);
  } else {
    const named = await userNamed(repo, target!);
    if (typeof named === 'string') throw new Error(named);
    const { user, byEmail } = named;
    if (command === 'grant') {
      // Anyone may sign up with an address before its holder does: only a proven one names them.
      if (byEmail && !user.emailVerified)
        throw new Error(
          `${user.email} is not verified: its holder must follow the link mailed at sign-up first (or grant by user id, knowing whose account ${user.userId} is)`,
        );
      const granted = await repo.grant(user.userId, by);
      process.stdout.write(
        granted
          ? `granted ${user.userId} (${user.email})\n`
          : `${user.userId} (${user.email}) is an operator already\n`,
      );
    } else {
      const revoked = await repo.revoke(user.userId, by);
      process.stdout.write(
        revoked ? `revoked ${user.userId} (${user.email})\n` : `${user.userId} (${user.email}) held no grant\n`,
      );
      if (env.QUORUM_OPERATORS.includes(user.userId) || env.QUORUM_OPERATORS.includes(user.email))
        process.stderr.write(
          `${user.email} is still named in QUORUM_OPERATORS here: remove it there and restart the gateways\n`,
        );
    }
  }
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await sql.close();
}
