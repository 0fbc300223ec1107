/**
 * The SMTP adapter against a real SMTP server on loopback (`smtp-server`, the protocol
 * implementation nodemailer's authors keep), with authentication; what it receives is parsed
 * back with `mailparser`, as a mail client would.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { runMailerContract } from './contract/mailer.contract';
import { SmtpMailer } from './smtp-mailer';

interface Received {
  to: string;
  from: string;
  subject: string;
  text: string;
}

runMailerContract('smtp', async () => {
  const inbox: Received[] = [];
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true, // loopback test server without TLS
    disabledCommands: ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (auth.username === 'quorum' && auth.password === 'secret') callback(null, { user: 'quorum' });
      else callback(new Error('bad credentials'));
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
          inbox.push({
            to: to?.value[0]?.address ?? '',
            from: parsed.from?.text ?? '',
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
          });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const mailer = new SmtpMailer({
    url: `smtp://quorum:secret@127.0.0.1:${port}?ignoreTLS=true`,
    from: 'Quorum <quorum@example.com>',
  });
  return {
    mailer,
    received: async (to) =>
      inbox.filter((m) => m.to === to).map((m) => ({ ...m, from: m.from.replace(/^"?Quorum"? /, 'Quorum ') })),
    cleanup: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});
