/**
 * The contract every `Mailer` adapter passes: what is sent arrives whole (recipient, subject,
 * text with its links intact, non-ASCII text), one mail per send, and `close()` is idempotent.
 * Each adapter's fixture says how its mail is read back: the directory adapter's files, or what
 * a real SMTP server received.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Mail, Mailer } from '../index';

export interface MailerFixture {
  mailer: Mailer;
  /** What has arrived for `to`, oldest first. */
  received(to: string): Promise<Array<Pick<Mail, 'to' | 'subject' | 'text'> & { from: string }>>;
  cleanup?: () => Promise<void>;
}

export function runMailerContract(name: string, make: () => Promise<MailerFixture>): void {
  describe(`Mailer contract: ${name}`, () => {
    const fixtures: MailerFixture[] = [];
    const fixture = async () => {
      const f = await make();
      fixtures.push(f);
      return f;
    };
    afterEach(async () => {
      for (const f of fixtures.splice(0)) {
        await f.mailer.close();
        await f.cleanup?.();
      }
    });

    it('delivers a mail whole: recipient, sender, subject, and a text whose link and accents survive', async () => {
      const { mailer, received } = await fixture();
      const to = `ada-${randomUUID().slice(0, 8)}@example.com`;
      const link = `http://127.0.0.1:3000/invite/${randomUUID()}/${randomUUID()}/qinv_${'A'.repeat(43)}`;
      await mailer.send({ to, subject: 'Join Acme — café', text: `Hello Zoë,\n\nJoin here: ${link}\n` });
      const [mail, ...more] = await received(to);
      expect(more).toEqual([]);
      expect(mail).toMatchObject({ to, subject: 'Join Acme — café', from: 'Quorum <quorum@example.com>' });
      expect(mail!.text).toContain(link);
      expect(mail!.text).toContain('Hello Zoë');
    });

    it('sends one mail per call, to its own recipient only', async () => {
      const { mailer, received } = await fixture();
      const a = `a-${randomUUID().slice(0, 8)}@example.com`;
      const b = `b-${randomUUID().slice(0, 8)}@example.com`;
      await Promise.all([
        mailer.send({ to: a, subject: 'one', text: '1' }),
        mailer.send({ to: a, subject: 'two', text: '2' }),
        mailer.send({ to: b, subject: 'three', text: '3' }),
      ]);
      expect((await received(a)).map((m) => m.subject).sort()).toEqual(['one', 'two']);
      expect((await received(b)).map((m) => m.subject)).toEqual(['three']);
    });

    it('closes idempotently', async () => {
      const { mailer } = await fixture();
      await mailer.close();
      await mailer.close();
    });
  });
}
