/**
 * Invitations can be taken only by whoever reads the invited mailbox (issue: security probe,
 * finding 1). Before, a member read a pending admin invitation's id from `members.list`, signed
 * up as the invited address and accepted it. Now pending invitations are listed only to those
 * who may manage them, accepting takes the secret mailed in the invitation link (stored hashed,
 * single use, expiring), and sign-up mails a link that proves the address.
 *
 * The mail is read from the development mail adapter (files in the data directory), as a newcomer
 * running `npm start` would read it. Real Postgres and NATS.
 */
import { DirectoryMailer } from '@quorum/mail';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../support/http-client';
import {
  addMember,
  createOrg,
  invitationToken,
  PASSWORD,
  signUp,
  UNKNOWN_INVITATION_TOKEN,
  uniqueEmail,
  type TestUser,
} from '../support/people';
import { settledHead, startTestQuorum, type TestQuorum } from '../support/test-quorum';

let q: TestQuorum;
let owner: TestUser;
let mailbox: DirectoryMailer;

/** The one link of the newest mail to `to` whose subject matches. */
async function linkMailedTo(to: string, subject: RegExp): Promise<string> {
  const mails = (await mailbox.sent(to)).filter((m) => subject.test(m.subject));
  const link = /https?:\/\/\S+/.exec(mails.at(-1)?.text ?? '')?.[0];
  if (!link) throw new Error(`no mail to ${to} matching ${subject}`);
  return link;
}

beforeAll(async () => {
  q = await startTestQuorum('invitations');
  const mailer = q.app.gateway.deps.mailer;
  if (!(mailer instanceof DirectoryMailer)) throw new Error('the test Quorum should use development mail');
  mailbox = mailer;
  owner = await signUp(q.http, 'owner');
}, 60_000);

afterAll(async () => {
  await q?.stop();
});

describe('an invitation', () => {
  it('cannot be taken by a member who signs up as the invited address without the mailed link', async () => {
    const { orgId } = await createOrg(q.http, owner);
    const member = await addMember(q.http, orgId, owner, 'member', 'nosy');
    const adminEmail = uniqueEmail('future-admin');
    const invite = await q.http.mutation(
      'members.invite',
      { orgId, email: adminEmail, role: 'admin' },
      { token: owner.token },
    );

    // The member does not see pending invitations or their ids; the owner does.
    const asMember = await q.http.query(
      'members.list',
      { orgId, minPosition: invite.position },
      { token: member.token },
    );
    expect(asMember.invitations).toEqual([]);
    expect(JSON.stringify(asMember)).not.toContain(invite.invitationId);
    const asOwner = await q.http.query('members.list', { orgId, minPosition: invite.position }, { token: owner.token });
    expect(asOwner.invitations.map((i: { invitationId: string }) => i.invitationId)).toEqual([invite.invitationId]);

    // Signing up as the invited address (nothing checks the mailbox at sign-up) is not enough.
    const impostor = await q.http.mutation('auth.signUp', { email: adminEmail, password: PASSWORD, name: 'Mallory' });
    const head = await settledHead(q);
    const otherInvite = await q.http.mutation(
      'members.invite',
      { orgId, email: uniqueEmail('other'), role: 'member' },
      { token: owner.token },
    );
    const headAfterOther = await settledHead(q);
    expect(headAfterOther).toBeGreaterThan(head);
    for (const token of [UNKNOWN_INVITATION_TOKEN, invitationToken(otherInvite)]) {
      const refused = await failure(
        q.http.mutation(
          'members.accept',
          { orgId, invitationId: invite.invitationId, token },
          { token: impostor.accessToken },
        ),
      );
      // The same answer as for an invitation that does not exist: nothing is disclosed.
      expect(refused).toMatchObject({ status: 404, code: 'NOT_FOUND', reason: 'invitations.not_found' });
    }
    const unknown = await failure(
      q.http.mutation(
        'members.accept',
        { orgId, invitationId: crypto.randomUUID(), token: UNKNOWN_INVITATION_TOKEN },
        { token: impostor.accessToken },
      ),
    );
    expect(unknown).toMatchObject({ status: 404, code: 'NOT_FOUND', reason: 'invitations.not_found' });
    expect(await settledHead(q)).toBe(headAfterOther);
    expect((await failure(q.http.query('org.get', { orgId }, { token: impostor.accessToken }))).code).toBe('NOT_FOUND');
  });

  it('is accepted with the link mailed to the address, once; accepting proves the address', async () => {
    const { orgId } = await createOrg(q.http, owner);
    const email = uniqueEmail('invitee');
    const invite = await q.http.mutation('members.invite', { orgId, email, role: 'admin' }, { token: owner.token });
    const mailed = await linkMailedTo(email, /invited to join/);
    // The link the inviter was shown is the one in the mail.
    expect(mailed).toBe(invite.link);
    expect(mailed).toMatch(new RegExp(`/invite/${orgId}/${invite.invitationId}/qinv_[A-Za-z0-9_-]{43}$`));

    const invitee = await q.http.mutation('auth.signUp', { email, password: PASSWORD, name: 'Ivy' });
    expect(await q.http.query('auth.me', {}, { token: invitee.accessToken })).toMatchObject({ emailVerified: false });
    const token = invitationToken({ link: mailed });
    const accepted = await q.http.mutation(
      'members.accept',
      { orgId, invitationId: invite.invitationId, token },
      { token: invitee.accessToken },
    );
    expect(
      (await q.http.query('org.get', { orgId, minPosition: accepted.position }, { token: invitee.accessToken }))
        .yourRole,
    ).toBe('admin');
    expect(await q.http.query('auth.me', {}, { token: invitee.accessToken })).toMatchObject({ emailVerified: true });

    // Used up: a second use is refused, whoever presents it.
    expect(
      await failure(
        q.http.mutation(
          'members.accept',
          { orgId, invitationId: invite.invitationId, token },
          { token: invitee.accessToken },
        ),
      ),
    ).toMatchObject({
      code: 'NOT_FOUND',
      reason: 'invitations.not_found',
    });
  });

  it('is refused once its link has expired', async () => {
    const { orgId } = await createOrg(q.http, owner);
    const email = uniqueEmail('late');
    const invite = await q.http.mutation('members.invite', { orgId, email, role: 'member' }, { token: owner.token });
    const invitee = await q.http.mutation('auth.signUp', { email, password: PASSWORD, name: 'Late' });
    // Seven days on: the link's expiry is moved into the past, as time would.
    await q.app.sql.query(
      `UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'invitation' AND subject = $1`,
      [invite.invitationId],
    );
    expect(
      await failure(
        q.http.mutation(
          'members.accept',
          { orgId, invitationId: invite.invitationId, token: invitationToken(invite) },
          { token: invitee.accessToken },
        ),
      ),
    ).toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('is stored only as a hash', async () => {
    const { orgId } = await createOrg(q.http, owner);
    const invite = await q.http.mutation(
      'members.invite',
      { orgId, email: uniqueEmail('hashed'), role: 'member' },
      { token: owner.token },
    );
    const { rows } = await q.app.sql.query<{ token_hash: string }>(
      `SELECT token_hash FROM email_tokens WHERE subject = $1`,
      [invite.invitationId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).not.toContain(invitationToken(invite).slice(5));
    const events = JSON.stringify(await q.app.store.readStream(`organization-${orgId}`), (_, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    );
    expect(events).not.toContain(invitationToken(invite));
  });
});

describe('sign-up', () => {
  it('mails a link that proves the address; the link works once', async () => {
    const email = uniqueEmail('verify');
    const session = await q.http.mutation('auth.signUp', { email, password: PASSWORD, name: 'Vera' });
    expect(session.user.emailVerified).toBe(false);
    const link = await linkMailedTo(email, /Confirm your email/);
    const token = link.slice(link.lastIndexOf('/') + 1);
    expect(link).toMatch(/\/verify-email\/qev_[A-Za-z0-9_-]{43}$/);

    // Anyone holding the link confirms it (no session needed): it was mailed to the address.
    expect(await q.http.mutation('auth.verifyEmail', { token })).toEqual({ emailVerified: true, email });
    expect(await q.http.query('auth.me', {}, { token: session.accessToken })).toMatchObject({ emailVerified: true });
    expect(await failure(q.http.mutation('auth.verifyEmail', { token }))).toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
      reason: 'auth.verification_invalid',
    });
    expect(await failure(q.http.mutation('auth.verifyEmail', { token: 'qev_nope' }))).toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
    });
    // A verified address is not mailed again.
    expect(await q.http.mutation('auth.resendVerification', {}, { token: session.accessToken })).toEqual({
      sent: false,
      emailVerified: true,
    });
  });

  it('a new link can be asked for; each works once', async () => {
    const email = uniqueEmail('resend');
    const session = await q.http.mutation('auth.signUp', { email, password: PASSWORD, name: 'Remy' });
    const first = await linkMailedTo(email, /Confirm your email/);
    expect(await q.http.mutation('auth.resendVerification', {}, { token: session.accessToken })).toEqual({
      sent: true,
      emailVerified: false,
    });
    const second = await linkMailedTo(email, /Confirm your email/);
    expect(second).not.toBe(first);
    expect(
      await q.http.mutation('auth.verifyEmail', { token: second.slice(second.lastIndexOf('/') + 1) }),
    ).toMatchObject({ emailVerified: true });
  });
});
