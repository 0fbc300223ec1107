/** The event bus of a process: NATS JetStream when a URL is given, otherwise in-process. */
import { createMemoryBus, type EventBus } from '@quorum/bus';
import { NatsBus, type NatsBusOptions } from '@quorum/bus/nats';

export interface NatsOptions extends Omit<NatsBusOptions, 'namespace'> {
  /** An empty string is no namespace, as an unset one. */
  namespace?: string | undefined;
  /** Creates or updates the events stream before resolving; default true. */
  ensureStream?: boolean;
}

/** Connects to NATS JetStream; on failure closes the connection and rethrows. */
export async function openNatsBus(options: NatsOptions): Promise<NatsBus> {
  const { namespace, ensureStream = true, ...rest } = options;
  const bus = await NatsBus.create({ ...rest, ...(namespace ? { namespace } : {}) });
  if (ensureStream) {
    try {
      await bus.ensureStream();
    } catch (err) {
      await bus.close();
      throw err;
    }
  }
  return bus;
}

export interface BusOptions extends Omit<NatsOptions, 'servers'> {
  /** NATS server(s); absent or empty for the in-process bus (one process only). */
  natsUrl?: string | undefined;
}

/** NATS JetStream when `natsUrl` is set, otherwise the in-process bus. */
export async function openBus(options: BusOptions): Promise<{ bus: EventBus; kind: 'nats' | 'memory' }> {
  const { natsUrl, ...nats } = options;
  if (natsUrl) return { bus: await openNatsBus({ ...nats, servers: natsUrl }), kind: 'nats' };
  const bus = createMemoryBus();
  if (options.ensureStream ?? true) await bus.ensureStream();
  return { bus, kind: 'memory' };
}
