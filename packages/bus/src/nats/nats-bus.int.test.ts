import { runEventBusContract } from '../contract/event-bus.contract';
import { NatsBus } from './nats-bus';

// The only env read in the package: the test file is the composition root of its own run.
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

runEventBusContract('nats', async () => {
  try {
    const bus = await NatsBus.create({
      servers: NATS_URL,
      name: 'bus-contract',
      timeoutMs: 3_000,
      // Each test makes uniquely named durables; let the server drop them after an hour idle.
      consumerInactiveThresholdMs: 60 * 60 * 1_000,
    });
    return { bus };
  } catch (error) {
    throw new Error(
      `NATS is not running at ${NATS_URL} (${error instanceof Error ? error.message : String(error)}). ` +
        'Start it with scripts/services.sh.',
      { cause: error },
    );
  }
});
