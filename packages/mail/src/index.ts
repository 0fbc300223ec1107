/**
 * The mail port: Quorum sends mail to prove that someone holds an address (sign-up
 * verification, invitations). Adapters: `SmtpMailer` (`@quorum/mail/smtp`, any SMTP server) and
 * `DirectoryMailer` (development: each mail is a JSON file in a directory and a log line).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

/** One message: plain text always, HTML optional. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** A mail as an adapter kept it (the directory adapter's files, the SMTP contract's capture). */
export interface SentMail extends Mail {
  id: string;
  from: string;
  sentAt: string;
}

export interface Mailer {
  /** Resolves once the mail is handed over (written, or accepted by the SMTP server). */
  send(mail: Mail): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

export interface DirectoryMailerOptions {
  /** Where each mail is written, as `<sentAt>-<id>.json`. */
  dir: string;
  from: string;
  logger: Logger;
  now?: () => Date;
}

/**
 * Development mail: each message is written to `dir` (a file per mail, written whole and then
 * renamed into place, so a reader never sees half of one) and logged with its text, so whoever
 * runs Quorum without an SMTP server can follow the links. Never for production: anyone who
 * reads the log or the directory reads everyone's mail.
 */
export class DirectoryMailer implements Mailer {
  private readonly now: () => Date;

  constructor(private readonly options: DirectoryMailerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async send(mail: Mail): Promise<void> {
    const sent: SentMail = { id: randomUUID(), from: this.options.from, sentAt: this.now().toISOString(), ...mail };
    await mkdir(this.options.dir, { recursive: true });
    const name = `${sent.sentAt.replace(/[:.]/g, '-')}-${sent.id}.json`;
    const tmp = join(this.options.dir, `.${name}.tmp`);
    await writeFile(tmp, JSON.stringify(sent, null, 2), { mode: 0o600 });
    await rename(tmp, join(this.options.dir, name));
    this.options.logger.info(
      { mail: { to: sent.to, subject: sent.subject, file: name } },
      `mail to ${sent.to}: ${sent.subject}\n${sent.text}`,
    );
  }

  /** Every mail written so far, oldest first; only those to `to` when given. */
  async sent(to?: string): Promise<SentMail[]> {
    const names = await readdir(this.options.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    const mails = await Promise.all(
      names
        .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
        .sort()
        .map(async (n) => JSON.parse(await readFile(join(this.options.dir, n), 'utf8')) as SentMail),
    );
    return to === undefined ? mails : mails.filter((m) => m.to.toLowerCase() === to.toLowerCase());
  }

  async close(): Promise<void> {}
}

export interface MailerChoice {
  /** An SMTP connection URL: mail goes there. */
  smtpUrl?: string | undefined;
  /** Without one, development mail: each message is a file here and a log line. */
  devDir: string;
  from: string;
  logger: Logger;
}

/** SMTP when a URL is given, else the development directory (said once in the log). */
export async function createMailer(choice: MailerChoice): Promise<Mailer> {
  if (choice.smtpUrl) {
    const { SmtpMailer } = await import('./smtp-mailer');
    choice.logger.info({ from: choice.from }, 'mail: SMTP (SMTP_URL)');
    return new SmtpMailer({ url: choice.smtpUrl, from: choice.from });
  }
  choice.logger.warn(
    { dir: choice.devDir },
    'mail: development mode, no SMTP_URL: every mail is written to this directory and to the log (never use this in production)',
  );
  return new DirectoryMailer({ dir: choice.devDir, from: choice.from, logger: choice.logger });
}
