/**
 * Quorum's operators for tests: granted as the command line grants them (the same repository,
 * on the test Quorum's database), or through the command line itself, run from source as a
 * separate process with only its own environment.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createKysely, type Database } from '@quorum/db';
import { OperatorsRepository } from '@quorum/gateway/operators';
import type { TestQuorum } from './test-quorum';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = 'services/gateway/src/operators-cli.ts';

/** The operators table of `q`'s database. */
export function operatorsOf(q: TestQuorum): OperatorsRepository {
  return new OperatorsRepository(createKysely<Database>(q.app.sql));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `operators <args>` against `q`'s database, as an operator of Quorum would. */
export function operatorsCli(q: TestQuorum, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: q.env.DATABASE_URL!, LOG_LEVEL: 'warn', ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(err);
          return;
        }
        resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
      },
    );
  });
}
