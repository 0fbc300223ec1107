import { InviteMemberInputSchema, ROLES, type Role } from '@quorum/domain';
import { useState, type FormEvent } from 'react';
import { errorMessage } from '../errors';
import { validate, type FieldErrors } from '../forms';
import { useAction, useAnnounce } from '../status';
import { trpc } from '../trpc';
import {
  Field,
  formatDate,
  FormError,
  LoadError,
  Loading,
  NotAllowed,
  roleLabel,
  Select,
  SubmitButton,
  ConfirmAction,
} from '../ui';
import { permission, useOrg, useOrgQuery } from './org-context';

/** Roles `role` may hand out: only owners touch the owner role (docs/roles.md). */
function grantable(role: Role) {
  return ROLES.map((r) => ({ value: r, label: roleLabel(r), disabled: r === 'owner' && role !== 'owner' }));
}

export function MembersPage() {
  const org = useOrg();
  const members = useOrgQuery('members.list', org.orgId, (p) => trpc.members.list.query({ orgId: org.orgId, ...p }));
  const canInvite = permission(org.yourRole, 'members.invite', 'invite people');
  const canManage = permission(org.yourRole, 'members.changeRole', 'change roles or remove members');

  return (
    <div className="stack" aria-busy={members.isPlaceholderData || undefined}>
      <section className="card" aria-labelledby="invite-heading">
        <h2 id="invite-heading">Invite someone</h2>
        {canInvite.allowed ? <InviteForm /> : <NotAllowed>{canInvite.reason}</NotAllowed>}
      </section>

      <section className="card" aria-labelledby="members-heading">
        <h2 id="members-heading">Members</h2>
        {!canManage.allowed ? <NotAllowed>{canManage.reason}</NotAllowed> : null}
        {members.isPending ? <Loading what="members" /> : null}
        {members.isError ? (
          <LoadError error={errorMessage(members.error)} retry={() => void members.refetch()} />
        ) : null}
        {members.data ? (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Seat</th>
                  <th scope="col">Joined</th>
                  {canManage.allowed ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {members.data.members.map((m) => (
                  <tr key={m.userId} data-testid={`member-row-${m.email}`}>
                    <td>{m.email}</td>
                    <td>
                      {canManage.allowed ? (
                        <RoleEditor userId={m.userId} email={m.email} role={m.role as Role} />
                      ) : (
                        roleLabel(m.role)
                      )}
                    </td>
                    <td>{m.hasSeat ? 'Yes' : 'No'}</td>
                    <td>{formatDate(m.joinedAt)}</td>
                    {canManage.allowed ? (
                      <td>
                        <RemoveButton userId={m.userId} email={m.email} />
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>

      {members.data && members.data.invitations.length > 0 ? (
        <section className="card" aria-labelledby="invitations-heading">
          <h2 id="invitations-heading">Pending invitations</h2>
          <ul className="plain-list">
            {members.data.invitations.map((i) => (
              <li key={i.invitationId} data-testid={`invitation-${i.email}`}>
                <span>
                  <strong>{i.email}</strong> as {roleLabel(i.role).toLowerCase()}
                  <span className="hint"> · expires {formatDate(i.expiresAt)}</span>
                </span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}

function InviteForm() {
  const org = useOrg();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [link, setLink] = useState<{ email: string; url: string } | undefined>();
  const invite = useAction((input: { orgId: string; email: string; role: Role }) => trpc.members.invite.mutate(input), {
    orgId: org.orgId,
    progress: (i) => `Inviting ${i.email}…`,
    success: (_, i) =>
      `Invited ${i.email} as ${roleLabel(i.role).toLowerCase()}. The invitation link was mailed to them.`,
    onSuccess: (out, i) => setLink({ email: i.email, url: out.link }),
  });
  const fieldErrors = { ...invite.fieldErrors, ...errors };

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const v = validate(InviteMemberInputSchema, {
      orgId: org.orgId,
      email: String(form.get('email') ?? ''),
      role: String(form.get('role') ?? ''),
    });
    setErrors(v.ok ? {} : v.errors);
    if (v.ok) invite.mutate(v.data, { onSuccess: () => (e.target as HTMLFormElement).reset() });
  };

  return (
    <>
      <form onSubmit={submit} noValidate aria-label="Invite member" className="inline-form">
        <Field label="Email" name="email" type="email" autoComplete="off" error={fieldErrors.email} />
        <Select
          label="Role"
          name="role"
          defaultValue="member"
          error={fieldErrors.role}
          options={grantable(org.yourRole)}
        />
        <FormError text={invite.errorText} />
        <SubmitButton pending={invite.isPending} pendingText="Inviting…">
          Send invitation
        </SubmitButton>
      </form>
      {org.yourRole !== 'owner' ? <p className="hint">Only owners can invite an owner.</p> : null}
      {link ? (
        <div className="callout" data-testid="invitation-link-box">
          <p>
            Quorum mailed this link to <strong>{link.email}</strong>; they open it, sign up or log in with that address,
            and join. It is shown only now, works once, and only for that address; you may also send it yourself:
          </p>
          <div className="copy-row">
            <input
              readOnly
              value={link.url}
              aria-label="Invitation link"
              data-testid="invitation-link"
              onFocus={(e) => e.currentTarget.select()}
            />
            <CopyLink link={link.url} label="Copy invitation link" />
          </div>
        </div>
      ) : null}
    </>
  );
}

export function CopyLink({ link, label, text = 'Copy link' }: { link: string; label: string; text?: string }) {
  const announce = useAnnounce();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
      announce('success', `${text.replace(/^Copy/, 'Copied the')} to the clipboard.`);
      setTimeout(() => setCopied(false), 2_000);
    } catch {
      // Clipboard access can be refused (insecure origin, permissions): the link stays selectable.
      announce('info', `Copy this link by hand: ${link}`);
    }
  };
  return (
    <button type="button" className="secondary" onClick={() => void copy()} aria-label={label} data-link={link}>
      {copied ? 'Copied' : text}
    </button>
  );
}

function RoleEditor({ userId, email, role }: { userId: string; email: string; role: Role }) {
  const org = useOrg();
  const [value, setValue] = useState<Role>(role);
  const change = useAction((next: Role) => trpc.members.changeRole.mutate({ orgId: org.orgId, userId, role: next }), {
    orgId: org.orgId,
    progress: (next) => `Making ${email} ${roleLabel(next).toLowerCase()}…`,
    success: (_, next) => `${email} is now ${roleLabel(next).toLowerCase()}.`,
  });
  const ownerLocked = role === 'owner' && org.yourRole !== 'owner';
  return (
    <form
      className="row-form"
      onSubmit={(e) => {
        e.preventDefault();
        change.mutate(value);
      }}
    >
      <label className="visually-hidden" htmlFor={`role-${userId}`}>
        Role of {email}
      </label>
      <select
        id={`role-${userId}`}
        value={value}
        onChange={(e) => setValue(e.target.value as Role)}
        disabled={ownerLocked || change.isPending}
        title={ownerLocked ? 'Only owners can change an owner.' : undefined}
      >
        {grantable(org.yourRole).map((o) => (
          <option key={o.value} value={o.value} disabled={o.disabled}>
            {o.label}
          </option>
        ))}
      </select>
      {value !== role ? (
        <button type="submit" disabled={change.isPending} aria-label={`Save role of ${email}`}>
          {change.isPending ? 'Saving…' : 'Save'}
        </button>
      ) : null}
    </form>
  );
}

function RemoveButton({ userId, email }: { userId: string; email: string }) {
  const org = useOrg();
  const remove = useAction(() => trpc.members.remove.mutate({ orgId: org.orgId, userId }), {
    orgId: org.orgId,
    progress: () => `Removing ${email}…`,
    success: () => `Removed ${email}.`,
  });
  return (
    <ConfirmAction
      verb="Remove"
      verbing="Removing"
      subject={email}
      pending={remove.isPending}
      onConfirm={() => remove.mutate(undefined)}
    />
  );
}
