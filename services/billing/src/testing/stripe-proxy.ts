/**
 * A recording proxy in front of stripe-mock for the billing tests. stripe-mock answers from
 * fixtures and keeps no state, so the tests count and check the calls here: method, path, form
 * parameters and Idempotency-Key of each. It can also answer for Stripe, for a while, with a
 * failure (500, 429 with `Retry-After`, a 400 refusal) to show how the sync copes.
 *
 * stripe-mock's subscription fixture carries one item with a price of its own; the proxy puts the
 * requested prices (and quantities) into the answer's items, as Stripe itself answers, so the sync
 * can find its seat and metered items by price.
 *
 * For reconciliation it also keeps what Stripe would: the meter events it forwarded (one per
 * identifier, as Stripe keeps them) answer `billing.meters.listEventSummaries` with their sum
 * over the asked range, and the quantities set on subscription items answer
 * `subscriptionItems.retrieve`. A test chooses other figures with {@link StripeProxy.answer}.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const STRIPE_MOCK_URL = process.env.STRIPE_MOCK_URL ?? 'http://127.0.0.1:12111';

/** The settings that connect a test Quorum (or billing process) to Stripe at `apiBase`, with the test prices. */
export function testStripeEnv(apiBase: string) {
  return {
    STRIPE_SECRET_KEY: 'sk_test_123',
    STRIPE_API_BASE: apiBase,
    STRIPE_PRICE_PRO_SEAT: 'price_pro_seat',
    STRIPE_PRICE_PRO_MINUTES: 'price_pro_minutes',
    STRIPE_PRICE_BUSINESS_SEAT: 'price_business_seat',
    STRIPE_PRICE_BUSINESS_MINUTES: 'price_business_minutes',
    STRIPE_PRICE_ENTERPRISE_SEAT: 'price_enterprise_seat',
  };
}

export interface RecordedCall {
  method: string;
  path: string;
  params: Record<string, string>;
  idempotencyKey: string | null;
  /** The status the caller got. */
  status: number;
  /** When the proxy got it (ms since the epoch). */
  at: number;
}

/** A failure the proxy answers with instead of forwarding. */
export interface InjectedFailure {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Which calls it answers; every call when absent. */
  match?: (call: Omit<RecordedCall, 'status' | 'at'>) => boolean;
  /** How many calls it answers before it is used up; unlimited when absent. */
  times?: number;
}

export interface StripeProxy {
  url: string;
  calls: RecordedCall[];
  /** Answers matching calls with `failure` (before any earlier failure still armed). */
  fail(failure: InjectedFailure): void;
  /** Answers matching calls with 200 and `body` instead of forwarding them (until cleared). */
  answer(match: (call: Omit<RecordedCall, 'status' | 'at'>) => boolean, body: unknown): void;
  clearFailures(): void;
  close(): Promise<void>;
}

function itemId(subscription: string, price: string): string {
  return `si_${createHash('sha256').update(`${subscription}|${price}`).digest('hex').slice(0, 14)}`;
}

/** Items of a subscription answer, as the request named them. */
function echoItems(answer: Record<string, unknown>, params: Record<string, string>): void {
  const items = answer.items as { data?: Array<Record<string, unknown>> } | undefined;
  const template = items?.data?.[0];
  if (!items || !template) return;
  const requested: Array<{ price: string; quantity?: number }> = [];
  for (let i = 0; params[`items[${i}][price]`] !== undefined || params[`items[${i}][id]`] !== undefined; i++) {
    const price = params[`items[${i}][price]`];
    if (params[`items[${i}][deleted]`] === 'true' || !price) continue;
    const quantity = params[`items[${i}][quantity]`];
    requested.push({ price, ...(quantity !== undefined ? { quantity: Number(quantity) } : {}) });
  }
  if (requested.length === 0) return;
  items.data = requested.map((r) => ({
    ...template,
    id: itemId(String(answer.id), r.price),
    price: { ...(template.price as object), id: r.price },
    quantity: r.quantity ?? (template.quantity as number | undefined),
  }));
}

/** Meter events taken, per customer: identifier → value and timestamp (seconds). */
type MeterState = Map<string, Map<string, { value: number; timestamp: number }>>;

function recordMeterEvent(meter: MeterState, params: Record<string, string>): void {
  const customer = params['payload[stripe_customer_id]'];
  const identifier = params.identifier;
  if (!customer || !identifier) return;
  const events = meter.get(customer) ?? new Map<string, { value: number; timestamp: number }>();
  // Stripe keeps the first event of an identifier and ignores repeats.
  if (!events.has(identifier))
    events.set(identifier, { value: Number(params['payload[value]']), timestamp: Number(params.timestamp) });
  meter.set(customer, events);
}

/** One summary of the customer's meter events in [start_time, end_time), as Stripe sums them. */
function meterSummaries(meter: MeterState, meterId: string, params: Record<string, string>): unknown {
  const start = Number(params.start_time);
  const end = Number(params.end_time);
  let sum = 0;
  for (const e of meter.get(params.customer ?? '')?.values() ?? [])
    if (e.timestamp >= start && e.timestamp < end) sum += e.value;
  return {
    object: 'list',
    url: `/v1/billing/meters/${meterId}/event_summaries`,
    has_more: false,
    data: [
      {
        id: `mtrusg_${createHash('sha256').update(`${params.customer}|${start}`).digest('hex').slice(0, 14)}`,
        object: 'billing.meter_event_summary',
        aggregated_value: sum,
        start_time: start,
        end_time: end,
        livemode: false,
        meter: meterId,
      },
    ],
  };
}

export async function startStripeProxy(target = STRIPE_MOCK_URL): Promise<StripeProxy> {
  const calls: RecordedCall[] = [];
  let failures: InjectedFailure[] = [];
  const meter: MeterState = new Map();
  /** Subscription item id → quantity, as the calls left it. */
  const quantities = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url ?? '/', target);
        const params = Object.fromEntries(new URLSearchParams(req.method === 'GET' ? url.search : body));
        const key = req.headers['idempotency-key'];
        const at = Date.now();
        const call = {
          method: req.method ?? 'GET',
          path: url.pathname,
          params,
          idempotencyKey: typeof key === 'string' ? key : null,
        };
        const failure = failures.find((f) => (f.times === undefined || f.times > 0) && (!f.match || f.match(call)));
        if (failure) {
          if (failure.times !== undefined) failure.times--;
          calls.push({ ...call, status: failure.status, at });
          res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
          res.end(
            JSON.stringify(
              failure.body ?? {
                error: {
                  type: failure.status === 429 ? 'rate_limit_error' : 'api_error',
                  message: 'Injected by the test.',
                },
              },
            ),
          );
          return;
        }
        const headers: Record<string, string> = {};
        for (const name of ['authorization', 'content-type', 'idempotency-key', 'stripe-version'] as const) {
          const v = req.headers[name];
          if (typeof v === 'string') headers[name] = v;
        }
        const answer = await fetch(url, {
          method: req.method,
          headers,
          ...(req.method === 'GET' || req.method === 'DELETE' ? {} : { body }),
        });
        let text = await answer.text();
        const itemPath = /^\/v1\/subscription_items\/([^/]+)$/.exec(url.pathname);
        const summaryPath = /^\/v1\/billing\/meters\/([^/]+)\/event_summaries$/.exec(url.pathname);
        if (answer.ok && url.pathname.startsWith('/v1/subscriptions')) {
          const json = JSON.parse(text) as Record<string, unknown>;
          echoItems(json, params);
          for (const item of (json.items as { data?: Array<{ id: string; quantity?: number }> } | undefined)?.data ??
            [])
            if (typeof item.quantity === 'number') quantities.set(item.id, item.quantity);
          for (let i = 0; params[`items[${i}][id]`] !== undefined || params[`items[${i}][price]`] !== undefined; i++) {
            const id = params[`items[${i}][id]`];
            const quantity = params[`items[${i}][quantity]`];
            if (id && quantity !== undefined && params[`items[${i}][price]`] === undefined)
              quantities.set(id, Number(quantity));
          }
          text = JSON.stringify(json);
        } else if (answer.ok && itemPath) {
          const id = decodeURIComponent(itemPath[1]!);
          if (req.method === 'POST' && params.quantity !== undefined) quantities.set(id, Number(params.quantity));
          const json = JSON.parse(text) as Record<string, unknown>;
          json.id = id;
          if (quantities.has(id)) json.quantity = quantities.get(id);
          text = JSON.stringify(json);
        } else if (answer.ok && summaryPath) {
          text = JSON.stringify(meterSummaries(meter, decodeURIComponent(summaryPath[1]!), params));
        } else if (answer.ok && url.pathname === '/v1/billing/meter_events') {
          recordMeterEvent(meter, params);
        }
        calls.push({ ...call, status: answer.status, at });
        res.writeHead(answer.status, {
          'content-type': 'application/json',
          'request-id': answer.headers.get('request-id') ?? '',
        });
        res.end(text);
      })().catch((err: unknown) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'api_error', message: `proxy: ${String(err)}` } }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    fail(failure) {
      failures = [failure, ...failures];
    },
    answer(match, body) {
      failures = [{ status: 200, body, match }, ...failures];
    },
    clearFailures() {
      failures = [];
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
