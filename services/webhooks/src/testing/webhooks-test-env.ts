/**
 * What the delivery engine's integration tests share: a consumer's test env (a database and a
 * NATS namespace of the file's own, a relay into it: `@quorum/relay/testing`), endpoints made
 * as endpoint management makes them (an `endpoint.*` event in `webhooks-<orgId>`, its secret
 * in `webhook_secrets`), public events to deliver, and receivers on 127.0.0.1 that record what
 * reaches them and answer as a test scripts.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SqlDatabase } from '@quorum/db';
import { currentVersionOf, streamIds, type DomainEventType } from '@quorum/domain';
import type { EventStore, NewEvent } from '@quorum/eventstore';
import { openConsumerTestEnv, type ConsumerTestEnv } from '@quorum/relay/testing';
import { generateWebhookSecret } from '@quorum/webhooks';

export { logger, TEST_DATABASE_URL, TEST_NATS_URL, waitFor } from '@quorum/relay/testing';
export type WebhooksTestEnv = ConsumerTestEnv;

/** Where the envelopes' `dataschema` points in these tests. */
export const TEST_PUBLIC_URL = 'https://quorum.test';

export function openWebhooksTestEnv(label: string): Promise<WebhooksTestEnv> {
  return openConsumerTestEnv(label, 'webhooks');
}

function meta(orgId: string) {
  return {
    orgId,
    actor: { kind: 'system' as const, id: 'webhooks-test' },
    correlationId: randomUUID(),
    causationId: null,
  };
}

function event<T extends DomainEventType>(orgId: string, type: T, data: unknown): NewEvent {
  return { id: randomUUID(), type, version: currentVersionOf(type), data, metadata: meta(orgId) };
}

/** Appends one endpoint event to `webhooks-<orgId>`; its position. */
export async function appendEndpointEvent(
  store: EventStore,
  orgId: string,
  type: Extract<DomainEventType, `endpoint.${string}`>,
  data: Record<string, unknown>,
): Promise<bigint> {
  const result = await store.appendToStream(streamIds.webhooks(orgId), [event(orgId, type, data)]);
  return result.position;
}

export interface TestEndpoint {
  endpointId: string;
  secret: string;
}

/**
 * An endpoint as `webhooks.create` makes it, without the gateway: its secret stored, then
 * `endpoint.created` (the engine's tests run without a gateway; the all-in-one's use the procedure).
 */
export async function createEndpoint(
  store: EventStore,
  sql: SqlDatabase,
  orgId: string,
  url: string,
  eventTypes: string[] = [],
): Promise<TestEndpoint> {
  const endpointId = randomUUID();
  const secret = generateWebhookSecret();
  await sql.query(
    `INSERT INTO webhook_secrets (endpoint_id, org_id, secret, created_at) VALUES ($1, $2, $3, clock_timestamp())`,
    [endpointId, orgId, secret],
  );
  await appendEndpointEvent(store, orgId, 'endpoint.created', {
    endpointId,
    url,
    description: 'test receiver',
    eventTypes,
    createdBy: randomUUID(),
  });
  return { endpointId, secret };
}

/** A rotation: a new current secret; the previous one signs until `previousValidUntil`. */
export async function rotateSecret(
  store: EventStore,
  sql: SqlDatabase,
  orgId: string,
  endpointId: string,
  previousValidUntil: Date,
): Promise<string> {
  const secret = generateWebhookSecret();
  await sql.transaction(async (tx) => {
    await tx.query(`UPDATE webhook_secrets SET expires_at = $2 WHERE endpoint_id = $1 AND expires_at IS NULL`, [
      endpointId,
      previousValidUntil,
    ]);
    await tx.query(
      `INSERT INTO webhook_secrets (endpoint_id, org_id, secret, created_at) VALUES ($1, $2, $3, clock_timestamp())`,
      [endpointId, orgId, secret],
    );
  });
  await appendEndpointEvent(store, orgId, 'endpoint.secret_rotated', {
    endpointId,
    by: randomUUID(),
    previousValidUntil: previousValidUntil.toISOString(),
  });
  return secret;
}

/**
 * `count` public events in one session stream, one append each: `participant.joined` whose
 * display name is its number in the stream (`0`, `1`, …), so a receiver can check the order.
 */
export async function appendSessionEvents(
  store: EventStore,
  orgId: string,
  sessionId: string,
  count: number,
  from = 0,
): Promise<string[]> {
  const ids: string[] = [];
  for (let n = from; n < from + count; n++) {
    const e = event(orgId, 'participant.joined', {
      participantId: randomUUID(),
      displayName: String(n),
      isHost: false,
      at: new Date().toISOString(),
      node: 'sfu-1/test',
    });
    await store.appendToStream(streamIds.session(sessionId), [e]);
    ids.push(e.id);
  }
  return ids;
}

/** Waits until the fan-out has folded the endpoint (its target row exists) with `status`. */
export async function targetStatus(sql: SqlDatabase, endpointId: string): Promise<string | undefined> {
  const { rows } = await sql.query<{ status: string }>(
    `SELECT status FROM webhook_endpoint_targets WHERE endpoint_id = $1`,
    [endpointId],
  );
  return rows[0]?.status;
}

/** Deliveries of an endpoint by status. */
export async function deliveryCounts(sql: SqlDatabase, endpointId: string): Promise<Record<string, number>> {
  const { rows } = await sql.query<{ status: string; n: string }>(
    `SELECT status, count(*) AS n FROM webhook_deliveries WHERE endpoint_id = $1 GROUP BY status`,
    [endpointId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

export interface AttemptRow {
  n: number;
  at: Date;
  request_headers: Record<string, string>;
  status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  duration_ms: number;
  error_class: string | null;
  error_message: string | null;
}

/** Every attempt of an endpoint's deliveries, oldest first. */
export async function attemptsOf(sql: SqlDatabase, endpointId: string): Promise<AttemptRow[]> {
  const { rows } = await sql.query<AttemptRow>(
    `SELECT a.n, a.at, a.request_headers, a.status, a.response_headers, a.response_body, a.duration_ms, a.error_class, a.error_message
     FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
     WHERE d.endpoint_id = $1 ORDER BY a.at, a.n`,
    [endpointId],
  );
  return rows;
}

/** One request a receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** When it arrived (ms since the epoch). */
  at: number;
}

/**
 * How a receiver answers the `n`-th request (0-based): a status and headers, after `delayMs`
 * (then `then` runs), or never.
 */
export type Answer =
  { status: number; headers?: Record<string, string>; body?: string; delayMs?: number; then?: () => void } | 'never';

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Changes how later requests are answered. */
  answer: (respond: (request: Received, n: number) => Answer) => void;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 recording every request; answers 204 unless told otherwise. */
export async function startReceiver(
  respond: (request: Received, n: number) => Answer = () => ({ status: 204 }),
  path = '/hook',
): Promise<Receiver> {
  let answer = respond;
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      const n = received.length;
      received.push(request);
      const reply = answer(request, n);
      if (reply === 'never') {
        hanging.add(res);
        return;
      }
      const send = () => {
        reply.then?.();
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? '');
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    received,
    answer: (next) => {
      answer = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The `webhook-*` headers of a received request, as `standardwebhooks` takes them. */
export function webhookHeadersOf(request: Received): Record<string, string> {
  const pick = (name: string) => String(request.headers[name] ?? '');
  return {
    'webhook-id': pick('webhook-id'),
    'webhook-timestamp': pick('webhook-timestamp'),
    'webhook-signature': pick('webhook-signature'),
  };
}
