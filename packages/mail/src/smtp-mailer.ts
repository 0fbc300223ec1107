/**
 * Mail through any SMTP server (nodemailer): a relay of the organization's, or a provider's
 * SMTP endpoint. `url` is nodemailer's connection URL: `smtps://user:pass@smtp.example.com:465`
 * for implicit TLS, `smtp://user:pass@smtp.example.com:587` for STARTTLS.
 */
import { createTransport, type Transporter } from 'nodemailer';
import type { Mail, Mailer } from './index';

export interface SmtpMailerOptions {
  url: string;
  from: string;
}

export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;
  private closed = false;

  constructor(private readonly options: SmtpMailerOptions) {
    this.transport = createTransport(options.url);
  }

  async send(mail: Mail): Promise<void> {
    if (this.closed) throw new Error('SmtpMailer is closed');
    await this.transport.sendMail({
      from: this.options.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      ...(mail.html ? { html: mail.html } : {}),
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.transport.close();
  }
}
