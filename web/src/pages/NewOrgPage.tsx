import { CreateOrganizationInputSchema, ENTITLEMENTS, PLANS, type Plan } from '@quorum/domain';
import { useState, type FormEvent } from 'react';
import { PageTitle } from '../PageTitle';
import { validate, type FieldErrors } from '../forms';
import { navigate } from '../router';
import { useAction } from '../status';
import { trpc } from '../trpc';
import { Field, FormError, Select, SubmitButton } from '../ui';
import { planLabel } from './PlanPage';

export function NewOrgPage({ first }: { first: boolean }) {
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useAction((input: { name: string; plan: Plan }) => trpc.org.create.mutate(input), {
    progress: (i) => `Creating ${i.name}…`,
    success: (_, i) => `Created ${i.name}.`,
    onSuccess: (out) => navigate(`/orgs/${out.orgId}/seats`),
  });
  // The answer's position is recorded for org.list (no organization id is known before).
  const fieldErrors = { ...create.fieldErrors, ...errors };

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const v = validate(CreateOrganizationInputSchema, {
      name: String(form.get('name') ?? ''),
      plan: String(form.get('plan') ?? 'free'),
    });
    setErrors(v.ok ? {} : v.errors);
    if (v.ok) create.mutate(v.data);
  };

  return (
    <PageTitle title="Create an organization">
      {first ? (
        <p className="notice">
          You do not belong to any organization yet. Create one to buy seats and invite your team.
        </p>
      ) : null}
      <form className="card narrow" onSubmit={submit} noValidate aria-label="Create organization">
        <Field label="Organization name" name="name" autoComplete="organization" error={fieldErrors.name} required />
        <Select
          label="Plan"
          name="plan"
          defaultValue="pro"
          error={fieldErrors.plan}
          options={PLANS.map((p) => ({
            value: p,
            label: `${planLabel(p)} — up to ${ENTITLEMENTS[p].maxSeats.toLocaleString()} seats${p === 'free' ? '' : ', 14-day trial'}`,
          }))}
        />
        <FormError text={create.errorText} />
        <SubmitButton pending={create.isPending} pendingText="Creating…">
          Create organization
        </SubmitButton>
      </form>
    </PageTitle>
  );
}
