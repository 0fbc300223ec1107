import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { createHttpClient } from './http-client';
import { invitationToken } from './people';

type Client = ReturnType<typeof createHttpClient>;

export interface SessionResult {
  orgId: string;
  ownerToken: string;
  memberToken: string;
  memberId: string;
  ownerId: string;
}

/**
 * The README's session over plain HTTP: sign up, create an org, buy 5 seats, invite and
 * accept a member, assign a seat, read it back with minPosition.
 */
export async function runScriptedSession(http: Client): Promise<SessionResult> {
  const tag = randomUUID().slice(0, 8);
  const owner = await http.mutation('auth.signUp', {
    email: `owner-${tag}@example.com`,
    password: 'correct horse battery',
    name: 'Olivia Owner',
  });
  expect(owner.accessToken).toBeTypeOf('string');
  const token = owner.accessToken as string;

  const created = await http.mutation('org.create', { name: `Acme ${tag}`, plan: 'pro' }, { token });
  expect(created.orgId).toMatch(/^[0-9a-f-]{36}$/);
  const orgId = created.orgId as string;

  const bought = await http.mutation('seats.purchase', { orgId, quantity: 5 }, { token });
  const invite = await http.mutation(
    'members.invite',
    { orgId, email: `member-${tag}@example.com`, role: 'member' },
    { token },
  );
  expect(invite.invitationId).toMatch(/^[0-9a-f-]{36}$/);

  const member = await http.mutation('auth.signUp', {
    email: `member-${tag}@example.com`,
    password: 'another long secret',
    name: 'Max Member',
  });
  const memberToken = member.accessToken as string;
  const accepted = await http.mutation(
    'members.accept',
    { orgId, invitationId: invite.invitationId, token: invitationToken(invite) },
    { token: memberToken },
  );

  const assigned = await http.mutation('seats.assign', { orgId, userId: member.user.id }, { token });
  expect(BigInt(assigned.position)).toBeGreaterThan(BigInt(accepted.position));
  expect(BigInt(accepted.position)).toBeGreaterThan(BigInt(bought.position));

  const seats = await http.query('seats.get', { orgId, minPosition: assigned.position }, { token });
  expect(seats).toMatchObject({ purchased: 5, assigned: 1, free: 4, planCap: 25, plan: 'pro' });
  expect(seats.assignments).toEqual([
    expect.objectContaining({ userId: member.user.id, email: `member-${tag}@example.com` }),
  ]);

  const members = await http.query('members.list', { orgId, minPosition: assigned.position }, { token });
  expect(
    members.members.map((m: { email: string; role: string; hasSeat: boolean }) => [m.email, m.role, m.hasSeat]),
  ).toEqual([
    [`owner-${tag}@example.com`, 'owner', false],
    [`member-${tag}@example.com`, 'member', true],
  ]);
  expect(members.invitations).toEqual([]);

  return { orgId, ownerToken: token, memberToken, memberId: member.user.id, ownerId: owner.user.id };
}
