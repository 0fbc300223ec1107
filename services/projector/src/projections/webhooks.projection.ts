/**
 * The `webhook_endpoints` read model, from the events of `webhooks-<orgId>`. A deleted
 * endpoint keeps its row with status `deleted` (the console and the delivery log can still
 * name it); `position` is that of the last event applied to the row.
 */
import { assertUnreachable, streamIds, type WebhooksEvent } from '@quorum/domain';
import { flushKeyed, type TableOf, type Trx, type WritePlan } from './write-plan';

export function planEndpoint(
  w: WritePlan,
  orgId: string,
  streamId: string,
  envelope: { position: string; at: string },
  event: WebhooksEvent,
): void {
  // An endpoint filed under another organization would deliver its events to a stranger.
  if (streamId !== streamIds.webhooks(orgId))
    throw new Error(`${event.type} on stream ${streamId}, not that of org ${orgId}`);
  const { position, at } = envelope;
  const id = event.data.endpointId;
  switch (event.type) {
    case 'endpoint.created': {
      const d = event.data;
      w.endpoint(id, {
        kind: 'insert',
        row: {
          id,
          org_id: orgId,
          url: d.url,
          description: d.description,
          event_types: d.eventTypes,
          status: 'enabled',
          disabled_reason: null,
          created_at: at,
          updated_at: at,
          secret_rotated_at: null,
          position,
        },
      });
      return;
    }
    case 'endpoint.updated': {
      const { url, description, eventTypes } = event.data;
      w.endpoint(id, {
        kind: 'update',
        set: { url, description, event_types: eventTypes, updated_at: at, position },
      });
      return;
    }
    case 'endpoint.paused':
      w.endpoint(id, { kind: 'update', set: { status: 'paused', updated_at: at, position } });
      return;
    case 'endpoint.resumed':
      w.endpoint(id, { kind: 'update', set: { status: 'enabled', disabled_reason: null, updated_at: at, position } });
      return;
    case 'endpoint.secret_rotated':
      w.endpoint(id, { kind: 'update', set: { secret_rotated_at: at, updated_at: at, position } });
      return;
    case 'endpoint.deleted':
      w.endpoint(id, { kind: 'update', set: { status: 'deleted', updated_at: at, position } });
      return;
    case 'endpoint.disabled':
      w.endpoint(id, {
        kind: 'update',
        set: { status: 'disabled', disabled_reason: event.data.reason, updated_at: at, position },
      });
      return;
    default:
      return assertUnreachable(event);
  }
}

export async function flushEndpoints(trx: Trx, t: TableOf, w: WritePlan): Promise<void> {
  await flushKeyed(trx, t('webhook_endpoints'), w.endpoints, ['id'], {
    columns:
      'id uuid, org_id uuid, url text, description text, event_types text[], status text, disabled_reason text, created_at timestamptz, updated_at timestamptz, secret_rotated_at timestamptz, position bigint',
    upsertSet:
      'org_id = EXCLUDED.org_id, url = EXCLUDED.url, description = EXCLUDED.description, event_types = EXCLUDED.event_types, status = EXCLUDED.status, disabled_reason = EXCLUDED.disabled_reason, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, secret_rotated_at = EXCLUDED.secret_rotated_at, position = EXCLUDED.position',
    updateColumns: {
      url: 'text',
      description: 'text',
      event_types: 'text[]',
      status: 'text',
      disabled_reason: 'text',
      updated_at: 'timestamptz',
      secret_rotated_at: 'timestamptz',
      position: 'bigint',
    },
  });
}
