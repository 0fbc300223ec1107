/**
 * People and organizations for integration tests, over plain HTTP. Every helper makes
 * fresh, unique data (emails carry a random tag), so tests isolate by ids.
 */
import { randomUUID } from 'node:crypto';
import type { Role } from '@quorum/domain';
import type { createHttpClient } from './http-client';

type Client = ReturnType<typeof createHttpClient>;

export const PASSWORD = 'correct horse battery staple';

export interface TestUser {
  userId: string;
  email: string;
  token: string;
  refreshToken: string;
}

/** A unique email with a readable label. */
export function uniqueEmail(label: string): string {
  return `${label}-${randomUUID().slice(0, 12)}@example.com`;
}

export async function signUp(http: Client, label: string): Promise<TestUser> {
  const email = uniqueEmail(label);
  const s = await http.mutation('auth.signUp', { email, password: PASSWORD, name: label });
  return { userId: s.user.id as string, email, token: s.accessToken as string, refreshToken: s.refreshToken as string };
}

/** Creates an organization as `owner`; pro by default (API access, 25 seats). */
export async function createOrg(
  http: Client,
  owner: TestUser,
  plan: 'free' | 'pro' | 'business' = 'pro',
): Promise<{ orgId: string; position: string }> {
  return http.mutation('org.create', { name: `Org ${randomUUID().slice(0, 8)}`, plan }, { token: owner.token });
}

/** The secret of an invitation link (`members.invite` answers it, and mails it). */
export function invitationToken(invite: { link: string }): string {
  return invite.link.slice(invite.link.lastIndexOf('/') + 1);
}

/** A token of the right shape that accepts nothing. */
export const UNKNOWN_INVITATION_TOKEN = `qinv_${'A'.repeat(43)}`;

/** Invites `user` with `role` (as `inviter`) and accepts; returns the accept position. */
export async function join(
  http: Client,
  orgId: string,
  inviter: { token?: string; apiKey?: string },
  user: TestUser,
  role: Role,
): Promise<string> {
  const invite = await http.mutation('members.invite', { orgId, email: user.email, role }, inviter);
  const accepted = await http.mutation(
    'members.accept',
    { orgId, invitationId: invite.invitationId, token: invitationToken(invite) },
    { token: user.token },
  );
  return accepted.position as string;
}

/** Signs up a new user and makes them a member with `role`; waits until the read model has them. */
export async function addMember(
  http: Client,
  orgId: string,
  owner: TestUser,
  role: Role,
  label: string = role,
): Promise<TestUser & { position: string }> {
  const user = await signUp(http, label);
  const position = await join(http, orgId, { token: owner.token }, user, role);
  await http.query('members.list', { orgId, minPosition: position }, { token: owner.token });
  return { ...user, position };
}

/**
 * The people of a meeting test: an owner of a pro organization with two seats, a `host`
 * holding one, and `alice`, a member without one.
 */
export async function meetingCast(
  http: Client,
): Promise<{ orgId: string; owner: TestUser; host: TestUser; alice: TestUser }> {
  const owner = await signUp(http, 'owner');
  const { orgId } = await createOrg(http, owner, 'pro');
  await http.mutation('seats.purchase', { orgId, quantity: 2 }, { token: owner.token });
  const host = await addMember(http, orgId, owner, 'host');
  const alice = await addMember(http, orgId, owner, 'member', 'alice');
  await http.mutation('seats.assign', { orgId, userId: host.userId }, { token: owner.token });
  return { orgId, owner, host, alice };
}
