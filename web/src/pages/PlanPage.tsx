import { ChangePlanInputSchema, ENTITLEMENTS, PLANS, type Entitlements, type Plan } from '@quorum/domain';
import { useState, type FormEvent } from 'react';
import { validate, type FieldErrors } from '../forms';
import { overageText, seatPriceText } from '../prices';
import { useAction } from '../status';
import { trpc } from '../trpc';
import { formatDate, FormError, NotAllowed, Select, SubmitButton } from '../ui';
import { permission, useOrg } from './org-context';

export function planLabel(plan: string): string {
  return plan.charAt(0).toUpperCase() + plan.slice(1);
}

const STATUS_WORDS: Record<string, string> = {
  trialing: 'Trial',
  active: 'Active',
  past_due: 'Past due',
  suspended: 'Suspended',
  closed: 'Closed',
};
export function statusLabel(status: string): string {
  return STATUS_WORDS[status] ?? status;
}

const ROWS: Array<{ key: keyof Entitlements; label: string }> = [
  { key: 'maxSeats', label: 'Seats' },
  { key: 'maxParticipantsPerMeeting', label: 'Participants per meeting' },
  { key: 'meetingMinutesPerMonth', label: 'Meeting minutes per month' },
  { key: 'recording', label: 'Recording' },
  { key: 'apiAccess', label: 'API access' },
];

function show(value: number | boolean | null): string {
  if (value === null) return 'Unlimited';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  return value.toLocaleString();
}

export function PlanPage() {
  const org = useOrg();
  const canChange = permission(org.yourRole, 'org.changePlan', 'change the plan');
  return (
    <div className="stack">
      <section className="card" aria-labelledby="current-plan">
        <h2 id="current-plan">Current plan</h2>
        <dl className="facts">
          <div>
            <dt>Plan</dt>
            <dd data-testid="current-plan">{planLabel(org.plan)}</dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd data-testid="plan-status">{statusLabel(org.status)}</dd>
          </div>
          <div>
            <dt>Trial</dt>
            <dd data-testid="trial-days">
              {org.trialDaysLeft !== null
                ? `${org.trialDaysLeft} day${org.trialDaysLeft === 1 ? '' : 's'} left (ends ${formatDate(org.trialEndsAt)})`
                : 'No trial running'}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatDate(org.createdAt)}</dd>
          </div>
        </dl>
      </section>

      <section className="card" aria-labelledby="change-plan">
        <h2 id="change-plan">Change plan</h2>
        {canChange.allowed ? <ChangePlanForm /> : <NotAllowed>{canChange.reason}</NotAllowed>}
      </section>

      <section className="card" aria-labelledby="entitlements">
        <h2 id="entitlements">What each plan includes</h2>
        <div className="table-wrap">
          <table className="entitlements">
            <caption className="visually-hidden">Entitlements and prices by plan; the current plan is marked.</caption>
            <thead>
              <tr>
                <th scope="col">Entitlement</th>
                {PLANS.map((p) => (
                  <th
                    scope="col"
                    key={p}
                    className={p === org.plan ? 'current' : undefined}
                    aria-current={p === org.plan ? 'true' : undefined}
                  >
                    {planLabel(p)}
                    {p === org.plan ? <span className="badge">current</span> : null}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {ROWS.map((row) => (
                <tr key={row.key}>
                  <th scope="row">{row.label}</th>
                  {PLANS.map((p) => (
                    <td key={p} className={p === org.plan ? 'current' : undefined}>
                      {show(ENTITLEMENTS[p][row.key])}
                    </td>
                  ))}
                </tr>
              ))}
              <tr>
                <th scope="row">Seat price per month</th>
                {PLANS.map((p) => (
                  <td key={p} className={p === org.plan ? 'current' : undefined}>
                    {seatPriceText(p)}
                  </td>
                ))}
              </tr>
              <tr>
                <th scope="row">Meeting minutes beyond the included</th>
                {PLANS.map((p) => (
                  <td key={p} className={p === org.plan ? 'current' : undefined}>
                    {overageText(p)}
                  </td>
                ))}
              </tr>
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}

function ChangePlanForm() {
  const org = useOrg();
  const [errors, setErrors] = useState<FieldErrors>({});
  const change = useAction((input: { orgId: string; plan: Plan }) => trpc.org.changePlan.mutate(input), {
    orgId: org.orgId,
    progress: (i) => `Changing the plan to ${planLabel(i.plan)}…`,
    success: (_, i) => `The plan is now ${planLabel(i.plan)}.`,
  });
  const fieldErrors = { ...change.fieldErrors, ...errors };
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const v = validate(ChangePlanInputSchema, {
      orgId: org.orgId,
      plan: String(new FormData(e.currentTarget).get('plan') ?? ''),
    });
    setErrors(v.ok ? {} : v.errors);
    if (v.ok) change.mutate(v.data);
  };
  return (
    <form onSubmit={submit} noValidate aria-label="Change plan" className="inline-form">
      <Select
        label="New plan"
        name="plan"
        key={org.plan}
        defaultValue={org.plan}
        error={fieldErrors.plan}
        options={PLANS.map((p) => ({
          value: p,
          label: `${planLabel(p)}${p === org.plan ? ' (current)' : ''} — ${ENTITLEMENTS[p].maxSeats.toLocaleString()} seats`,
        }))}
      />
      <FormError text={change.errorText} />
      <SubmitButton pending={change.isPending} pendingText="Changing…">
        Change plan
      </SubmitButton>
    </form>
  );
}
