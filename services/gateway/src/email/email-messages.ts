/** The mails Quorum sends, as plain text: each says what it is for and holds one link. */
import type { Mail } from '@quorum/mail';

export function verificationMail(to: string, name: string, link: string): Mail {
  return {
    to,
    subject: 'Confirm your email address for Quorum',
    text: [
      `Hello ${name},`,
      '',
      'Confirm that this is your email address by opening this link within 24 hours:',
      '',
      link,
      '',
      'If you did not create a Quorum account, ignore this mail.',
    ].join('\n'),
  };
}

export function invitationMail(to: string, o: { orgName: string; role: string; link: string; expiresAt: Date }): Mail {
  return {
    to,
    subject: `You are invited to join ${o.orgName} on Quorum`,
    text: [
      `You have been invited to join ${o.orgName} on Quorum as ${o.role}.`,
      '',
      `Open this link to accept (log in or sign up with ${to}); it works once, until ${o.expiresAt.toUTCString()}:`,
      '',
      o.link,
      '',
      'If you did not expect this invitation, ignore this mail.',
    ].join('\n'),
  };
}
