/**
 * The part of an endpoint's panel that belongs to its deliveries (the delivery log, resend,
 * recover): kept apart from the endpoint's own settings above it in `EndpointPanel`.
 */
import type { EndpointRow } from './WebhooksPage';

export function EndpointDeliveries({ endpoint }: { endpoint: EndpointRow }) {
  return (
    <section className="deliveries" aria-label={`Deliveries to ${endpoint.url}`} data-testid="endpoint-deliveries">
      <h4>Deliveries</h4>
      <p className="hint">Deliveries to this endpoint, with each attempt, are listed here.</p>
    </section>
  );
}
