/** Create an endpoint, or change one: URL, description, event types. */
import { CreateEndpointInputSchema, UpdateEndpointInputSchema } from '@quorum/domain';
import { useState, type FormEvent } from 'react';
import { validate, type FieldErrors } from '../../forms';
import { useAction } from '../../status';
import { trpc, type RouterInputs } from '../../trpc';
import { Field, FormError, SubmitButton } from '../../ui';
import { useOrg } from '../org-context';
import { EventTypePicker } from './event-type-picker';
import { SecretBox } from './SecretBox';
import type { EndpointRow } from './WebhooksPage';

type CreateInput = RouterInputs['webhooks']['create'];
type UpdateInput = RouterInputs['webhooks']['update'];

export function CreateEndpointForm() {
  const org = useOrg();
  const [eventTypes, setEventTypes] = useState<string[]>([]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [secret, setSecret] = useState<{ url: string; secret: string } | undefined>();
  const create = useAction((input: CreateInput) => trpc.webhooks.create.mutate(input), {
    orgId: org.orgId,
    progress: () => 'Adding the endpoint…',
    success: (out) => `Added ${out.endpoint.url}. Copy its signing secret now.`,
    onSuccess: (out) => {
      setSecret({ url: out.endpoint.url, secret: out.secret });
      setEventTypes([]);
    },
  });
  const fieldErrors = { ...create.fieldErrors, ...errors };
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const v = validate(CreateEndpointInputSchema, {
      orgId: org.orgId,
      url: String(form.get('url') ?? '').trim(),
      description: String(form.get('description') ?? ''),
      eventTypes,
    });
    setErrors(v.ok ? {} : v.errors);
    if (v.ok) create.mutate(v.data, { onSuccess: () => (e.target as HTMLFormElement).reset() });
  };
  return (
    <>
      <form onSubmit={submit} noValidate aria-label="Add webhook endpoint">
        <Field
          label="Endpoint URL"
          name="url"
          type="url"
          autoComplete="off"
          placeholder="https://example.com/webhooks/quorum"
          error={fieldErrors.url}
          hint="Where Quorum POSTs events: https, on a public address."
        />
        <Field label="Description" name="description" autoComplete="off" error={fieldErrors.description} />
        <EventTypePicker selected={eventTypes} onChange={setEventTypes} error={fieldErrors.eventTypes} />
        <FormError text={create.errorText} />
        <SubmitButton pending={create.isPending} pendingText="Adding…">
          Add endpoint
        </SubmitButton>
      </form>
      {secret ? (
        <SecretBox
          secret={secret.secret}
          intro={`The signing secret of ${secret.url}. Store it now and verify every delivery with it (Standard Webhooks); it is shown again only on request.`}
          onDone={() => setSecret(undefined)}
        />
      ) : null}
    </>
  );
}

export function EditEndpointForm({ endpoint, onDone }: { endpoint: EndpointRow; onDone: () => void }) {
  const org = useOrg();
  const [eventTypes, setEventTypes] = useState<string[]>(endpoint.eventTypes);
  const [errors, setErrors] = useState<FieldErrors>({});
  const update = useAction((input: UpdateInput) => trpc.webhooks.update.mutate(input), {
    orgId: org.orgId,
    progress: () => `Saving ${endpoint.url}…`,
    success: () => 'Saved the endpoint.',
    onSuccess: onDone,
  });
  const fieldErrors = { ...update.fieldErrors, ...errors };
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const v = validate(UpdateEndpointInputSchema, {
      orgId: org.orgId,
      endpointId: endpoint.id,
      url: String(form.get('url') ?? '').trim(),
      description: String(form.get('description') ?? ''),
      eventTypes,
    });
    setErrors(v.ok ? {} : v.errors);
    if (v.ok) update.mutate(v.data);
  };
  return (
    <form onSubmit={submit} noValidate aria-label={`Edit ${endpoint.url}`}>
      <Field label="Endpoint URL" name="url" type="url" defaultValue={endpoint.url} error={fieldErrors.url} />
      <Field
        label="Description"
        name="description"
        defaultValue={endpoint.description}
        error={fieldErrors.description}
      />
      <EventTypePicker selected={eventTypes} onChange={setEventTypes} error={fieldErrors.eventTypes} />
      <FormError text={update.errorText} />
      <div className="button-row">
        <SubmitButton pending={update.isPending} pendingText="Saving…">
          Save
        </SubmitButton>
        <button type="button" className="secondary" onClick={onDone} disabled={update.isPending}>
          Cancel
        </button>
      </div>
    </form>
  );
}
