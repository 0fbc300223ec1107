import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { expect } from 'vitest';
import { runMailerContract } from './contract/mailer.contract';
import { DirectoryMailer } from './index';

runMailerContract('directory (development)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'quorum-mail-'));
  const mailer = new DirectoryMailer({
    dir: join(dir, 'mail'),
    from: 'Quorum <quorum@example.com>',
    logger: pino({ level: 'silent' }),
  });
  return {
    mailer,
    received: async (to) => {
      // Only whole files: a mail is written aside and renamed into place.
      expect((await readdir(join(dir, 'mail'))).filter((n) => n.startsWith('.'))).toEqual([]);
      return mailer.sent(to);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
