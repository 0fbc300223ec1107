import { CreateApiKeyInputSchema } from '@quorum/api/schemas';
import { ROLES } from '@quorum/domain';
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { errorMessage } from '../errors';
import { validate, type FieldErrors } from '../forms';
import { Link } from '../router';
import { useAction } from '../status';
import { trpc, type RouterInputs } from '../trpc';
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
import { CopyLink } from './MembersPage';
import { permission, useOrg, useOrgQuery } from './org-context';

type CreateInput = RouterInputs['apiKeys']['create'];

export function ApiKeysPage() {
  const org = useOrg();
  const queryClient = useQueryClient();
  const canList = permission(org.yourRole, 'apiKeys.list', 'see or manage API keys');
  // API keys live in an ordinary table (no events), so reads are refreshed by invalidation.
  const keys = useOrgQuery('apiKeys.list', org.orgId, (p) => trpc.apiKeys.list.query({ orgId: org.orgId, ...p }), {
    enabled: canList.allowed,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['apiKeys.list', org.orgId] });

  if (!canList.allowed) return <NotAllowed>{canList.reason}</NotAllowed>;
  return (
    <div className="stack">
      <section className="card" aria-labelledby="create-key">
        <h2 id="create-key">Create an API key</h2>
        {org.entitlements.apiAccess ? (
          <CreateKeyForm onCreated={refresh} />
        ) : (
          <NotAllowed>
            The {org.plan} plan has no API access. <Link to={`/orgs/${org.orgId}/plan`}>Change the plan</Link> to create
            keys.
          </NotAllowed>
        )}
      </section>
      <section className="card" aria-labelledby="keys-heading">
        <h2 id="keys-heading">Keys</h2>
        {keys.isPending ? <Loading what="API keys" /> : null}
        {keys.isError ? <LoadError error={errorMessage(keys.error)} retry={() => void keys.refetch()} /> : null}
        {keys.data && keys.data.length === 0 ? <p>No keys yet.</p> : null}
        {keys.data && keys.data.length > 0 ? (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {keys.data.map((k) => (
                  <tr key={k.id} data-testid={`key-row-${k.name}`}>
                    <td>{k.name}</td>
                    <td>{roleLabel(k.role)}</td>
                    <td>
                      <code>{k.prefix}</code>
                    </td>
                    <td>{formatDate(k.createdAt)}</td>
                    <td>{formatDate(k.lastUsedAt)}</td>
                    <td>
                      {k.revokedAt ? (
                        `Revoked ${formatDate(k.revokedAt)}`
                      ) : (
                        <RevokeButton keyId={k.id} name={k.name} onRevoked={refresh} />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </div>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: () => void }) {
  const org = useOrg();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [secret, setSecret] = useState<{ name: string; secret: string } | undefined>();
  const create = useAction((input: CreateInput) => trpc.apiKeys.create.mutate(input), {
    orgId: org.orgId,
    progress: (i) => `Creating the key ${i.name}…`,
    success: (out) => `Created the key ${out.key.name}. Copy its secret now: it is shown only once.`,
    onSuccess: (out) => {
      setSecret({ name: out.key.name, secret: out.secret });
      onCreated();
    },
  });
  const fieldErrors = { ...create.fieldErrors, ...errors };
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const v = validate(CreateApiKeyInputSchema, {
      orgId: org.orgId,
      name: String(form.get('name') ?? ''),
      role: String(form.get('role') ?? 'admin'),
    });
    setErrors(v.ok ? {} : v.errors);
    if (v.ok) create.mutate(v.data, { onSuccess: () => (e.target as HTMLFormElement).reset() });
  };
  return (
    <>
      <form onSubmit={submit} noValidate aria-label="Create API key" className="inline-form">
        <Field
          label="Key name"
          name="name"
          autoComplete="off"
          error={fieldErrors.name}
          hint="What it is for, e.g. “CI deploys”."
        />
        <Select
          label="Role of the key"
          name="role"
          defaultValue="admin"
          error={fieldErrors.role}
          options={ROLES.filter((r) => r !== 'owner').map((r) => ({ value: r, label: roleLabel(r) }))}
        />
        <FormError text={create.errorText} />
        <SubmitButton pending={create.isPending} pendingText="Creating…">
          Create key
        </SubmitButton>
      </form>
      {secret ? (
        <div className="callout" role="region" aria-label="New API key secret" data-testid="api-key-secret-box">
          <p>
            The secret of <strong>{secret.name}</strong>. Store it now: Quorum keeps only its hash and will not show it
            again. Send it as the <code>x-api-key</code> header.
          </p>
          <div className="copy-row">
            <input
              readOnly
              value={secret.secret}
              aria-label="API key secret"
              data-testid="api-key-secret"
              onFocus={(e) => e.currentTarget.select()}
            />
            <CopyLink link={secret.secret} label="Copy API key secret" text="Copy secret" />
          </div>
          <button type="button" className="secondary" onClick={() => setSecret(undefined)}>
            I have stored it
          </button>
        </div>
      ) : null}
    </>
  );
}

function RevokeButton({ keyId, name, onRevoked }: { keyId: string; name: string; onRevoked: () => void }) {
  const org = useOrg();
  const revoke = useAction(() => trpc.apiKeys.revoke.mutate({ orgId: org.orgId, keyId }), {
    orgId: org.orgId,
    progress: () => `Revoking ${name}…`,
    success: () => `Revoked ${name}. Calls with it are refused from now on.`,
    onSuccess: onRevoked,
  });
  return (
    <ConfirmAction
      verb="Revoke"
      verbing="Revoking"
      subject={name}
      pending={revoke.isPending}
      onConfirm={() => revoke.mutate(undefined)}
    />
  );
}
