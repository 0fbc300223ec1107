import { PurchaseSeatsInputSchema, ReleaseSeatsInputSchema } from '@quorum/domain';
import { useState, type FormEvent } from 'react';
import { errorMessage } from '../errors';
import { numberFrom, validate, type FieldErrors } from '../forms';
import { useAction } from '../status';
import { trpc } from '../trpc';
import { Field, FormError, LoadError, Loading, NotAllowed, SubmitButton } from '../ui';
import { permission, useOrg, useOrgQuery } from './org-context';

function plural(n: number, word: string) {
  return `${n.toLocaleString()} ${word}${n === 1 ? '' : 's'}`;
}

export function SeatsPage() {
  const org = useOrg();
  const seats = useOrgQuery('seats.get', org.orgId, (p) => trpc.seats.get.query({ orgId: org.orgId, ...p }));
  const members = useOrgQuery('members.list', org.orgId, (p) => trpc.members.list.query({ orgId: org.orgId, ...p }));
  const canBuy = permission(org.yourRole, 'seats.purchase', 'buy or release seats');
  const canAssign = permission(org.yourRole, 'seats.assign', 'assign seats');

  if (seats.isPending) return <Loading what="seats" />;
  if (seats.isError) return <LoadError error={errorMessage(seats.error)} retry={() => void seats.refetch()} />;
  const s = seats.data;
  const pct = (n: number) => `${Math.min(100, (n / Math.max(1, s.planCap)) * 100)}%`;

  return (
    <div className="stack" aria-busy={seats.isPlaceholderData || undefined}>
      <section className="card" aria-labelledby="seat-usage">
        <h2 id="seat-usage">Usage</h2>
        <div
          className="seat-bar"
          role="img"
          aria-label={`${s.assigned} assigned of ${s.purchased} purchased; the ${s.plan} plan allows ${s.planCap}.`}
          data-testid="seat-bar"
        >
          <div className="seat-bar-purchased" style={{ width: pct(s.purchased) }} />
          <div className="seat-bar-assigned" style={{ width: pct(s.assigned) }} />
        </div>
        <dl className="seat-figures" data-testid="seat-figures">
          <div>
            <dt>Assigned</dt>
            <dd data-testid="seats-assigned">{s.assigned}</dd>
          </div>
          <div>
            <dt>Purchased</dt>
            <dd data-testid="seats-purchased">{s.purchased}</dd>
          </div>
          <div>
            <dt>Free</dt>
            <dd data-testid="seats-free">{s.free}</dd>
          </div>
          <div>
            <dt>Plan cap</dt>
            <dd data-testid="seats-cap">{s.planCap.toLocaleString()}</dd>
          </div>
        </dl>
        {seats.isPlaceholderData ? <p className="hint">Updating…</p> : null}
      </section>

      <section className="card" aria-labelledby="buy-seats">
        <h2 id="buy-seats">Buy or release seats</h2>
        {canBuy.allowed ? (
          <div className="two-forms">
            <QuantityForm mode="purchase" orgId={org.orgId} />
            <QuantityForm mode="release" orgId={org.orgId} />
          </div>
        ) : (
          <NotAllowed>{canBuy.reason}</NotAllowed>
        )}
      </section>

      <section className="card" aria-labelledby="assignments">
        <h2 id="assignments">Who has a seat</h2>
        {!canAssign.allowed ? <NotAllowed>{canAssign.reason}</NotAllowed> : null}
        {members.isPending ? <Loading what="members" /> : null}
        {members.isError ? <LoadError error={errorMessage(members.error)} /> : null}
        {members.data ? (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Member</th>
                  <th scope="col">Seat</th>
                  {canAssign.allowed ? <th scope="col">Action</th> : null}
                </tr>
              </thead>
              <tbody>
                {members.data.members.map((m) => (
                  <tr key={m.userId} data-testid={`seat-row-${m.email}`}>
                    <td>{m.email}</td>
                    <td>{m.hasSeat ? 'Has a seat' : 'No seat'}</td>
                    {canAssign.allowed ? (
                      <td>
                        <SeatToggle
                          orgId={org.orgId}
                          userId={m.userId}
                          email={m.email}
                          hasSeat={m.hasSeat}
                          noneFree={s.free === 0}
                        />
                      </td>
                    ) : null}
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

function QuantityForm({ mode, orgId }: { mode: 'purchase' | 'release'; orgId: string }) {
  const [errors, setErrors] = useState<FieldErrors>({});
  const buy = useAction((input: { orgId: string; quantity: number }) => trpc.seats.purchase.mutate(input), {
    orgId,
    progress: (i) => `Buying ${plural(i.quantity, 'seat')}…`,
    success: (_, i) => `Bought ${plural(i.quantity, 'seat')}.`,
  });
  const release = useAction((input: { orgId: string; quantity: number }) => trpc.seats.release.mutate(input), {
    orgId,
    progress: (i) => `Releasing ${plural(i.quantity, 'seat')}…`,
    success: (_, i) => `Released ${plural(i.quantity, 'seat')}.`,
  });
  const action = mode === 'purchase' ? buy : release;
  const fieldErrors = { ...action.fieldErrors, ...errors };

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const quantity = numberFrom(String(new FormData(e.currentTarget).get('quantity') ?? ''));
    const v = validate(mode === 'purchase' ? PurchaseSeatsInputSchema : ReleaseSeatsInputSchema, { orgId, quantity });
    setErrors(v.ok ? {} : v.errors);
    if (v.ok) action.mutate(v.data, { onSuccess: () => (e.target as HTMLFormElement).reset() });
  };

  return (
    <form
      onSubmit={submit}
      noValidate
      aria-label={mode === 'purchase' ? 'Buy seats' : 'Release seats'}
      className="inline-form"
    >
      <Field
        label={mode === 'purchase' ? 'Seats to buy' : 'Seats to release'}
        name="quantity"
        type="number"
        min={1}
        step={1}
        inputMode="numeric"
        error={fieldErrors.quantity}
      />
      <FormError text={action.errorText} />
      <SubmitButton
        pending={action.isPending}
        pendingText={mode === 'purchase' ? 'Buying…' : 'Releasing…'}
        className={mode === 'purchase' ? 'primary' : 'secondary'}
      >
        {mode === 'purchase' ? 'Buy seats' : 'Release seats'}
      </SubmitButton>
    </form>
  );
}

function SeatToggle({
  orgId,
  userId,
  email,
  hasSeat,
  noneFree,
}: {
  orgId: string;
  userId: string;
  email: string;
  hasSeat: boolean;
  noneFree: boolean;
}) {
  const assign = useAction(() => trpc.seats.assign.mutate({ orgId, userId }), {
    orgId,
    progress: () => `Giving ${email} a seat…`,
    success: () => `${email} has a seat.`,
  });
  const unassign = useAction(() => trpc.seats.unassign.mutate({ orgId, userId }), {
    orgId,
    progress: () => `Taking the seat back from ${email}…`,
    success: () => `${email} no longer has a seat.`,
  });
  if (hasSeat) {
    return (
      <button
        type="button"
        className="secondary"
        onClick={() => unassign.mutate(undefined)}
        disabled={unassign.isPending}
        aria-label={`Unassign seat from ${email}`}
      >
        {unassign.isPending ? 'Unassigning…' : 'Unassign'}
      </button>
    );
  }
  return (
    <span className="with-reason">
      <button
        type="button"
        onClick={() => assign.mutate(undefined)}
        disabled={assign.isPending || noneFree}
        aria-label={`Assign a seat to ${email}`}
        aria-describedby={noneFree ? `no-free-${userId}` : undefined}
      >
        {assign.isPending ? 'Assigning…' : 'Assign seat'}
      </button>
      {noneFree ? (
        <span id={`no-free-${userId}`} className="hint">
          No free seat: buy one first.
        </span>
      ) : null}
    </span>
  );
}
