/**
 * How every Quorum process stops. Entry points register each resource as it starts, with its
 * kind; on the first SIGTERM or SIGINT, or when start-up fails, they close in this order:
 *
 * 1. `server`: HTTP and WebSocket servers, SFU nodes. Stop taking work before anything else.
 * 2. `consumer`: relays, projectors, pipelines. They finish the batch in hand and checkpoint.
 * 3. `connection`: NATS, Redis, SMTP. Nothing above publishes or reads any more.
 * 4. `store`: the event store, then the SQL database (PostgreSQL pool or PGlite).
 * 5. `telemetry`: last, so the spans of every step above are flushed.
 *
 * Within a kind, resources close in reverse order of registration. Each closes once. A step
 * that fails is logged and the rest still close; the process then exits once, with 0 when every
 * step succeeded and 1 otherwise. A telemetry flush that fails loses spans, not state: it is
 * logged at warn and does not change the exit code. The first signal removes both handlers, so a
 * second one ends the process at once (Node's default) when a shutdown hangs.
 */
import type { Logger } from 'pino';

/** Where a resource stands in the shutdown order (see the module header). */
export type ResourceKind = 'server' | 'consumer' | 'connection' | 'store' | 'telemetry';

const SHUTDOWN_ORDER: readonly ResourceKind[] = ['server', 'consumer', 'connection', 'store', 'telemetry'];

/** Anything with an idempotent `close()`. */
export interface Closable {
  close(): Promise<unknown> | unknown;
}

export interface LifecycleOptions {
  logger: Logger;
}

interface Registration {
  kind: ResourceKind;
  name: string;
  close: () => Promise<unknown> | unknown;
}

/** The resources of one process (or one embedded composition), closed in the documented order. */
export class Lifecycle {
  readonly #logger: Logger;
  readonly #resources: Registration[] = [];
  #closing: Promise<boolean> | undefined;

  constructor(options: LifecycleOptions) {
    this.#logger = options.logger;
  }

  /** True once {@link close} has been called. */
  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Registers `resource` to be closed with the others and returns it. Registered after the
   * shutdown began (a start-up step that finished late), it is closed at once.
   */
  use<T extends Closable>(kind: ResourceKind, name: string, resource: T): T {
    this.onClose(kind, name, () => resource.close());
    return resource;
  }

  /** Registers a close step for something that has no `close()` of its own. */
  onClose(kind: ResourceKind, name: string, close: () => Promise<unknown> | unknown): void {
    const registration = { kind, name, close };
    if (this.#closing) {
      this.#logger.warn({ kind, resource: name }, `${name} started after the shutdown began; closing it now`);
      void this.#closeOne(registration);
      return;
    }
    this.#resources.push(registration);
  }

  /**
   * Closes every resource in the shutdown order; resolves true when every step succeeded.
   * Never rejects. Idempotent: later calls get the first call's result.
   */
  close(): Promise<boolean> {
    this.#closing ??= this.#closeAll();
    return this.#closing;
  }

  async #closeAll(): Promise<boolean> {
    let clean = true;
    for (const kind of SHUTDOWN_ORDER) {
      const ofKind = this.#resources.filter((r) => r.kind === kind).reverse();
      for (const registration of ofKind) if (!(await this.#closeOne(registration))) clean = false;
    }
    return clean;
  }

  async #closeOne({ kind, name, close }: Registration): Promise<boolean> {
    const started = performance.now();
    try {
      await close();
      this.#logger.info({ kind, resource: name, ms: Math.round(performance.now() - started) }, `closed ${name}`);
      return true;
    } catch (err) {
      if (kind === 'telemetry') {
        this.#logger.warn({ err, kind, resource: name }, `closing ${name} failed; unflushed spans are lost`);
        return true;
      }
      this.#logger.error({ err, kind, resource: name }, `closing ${name} failed`);
      return false;
    }
  }
}

/** The parts of `process` that {@link run} uses; tests pass their own. */
export interface ProcessPort {
  once(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

export interface RunOptions {
  /** Names the process in its start-up failure message, e.g. `relay`. */
  name: string;
  logger: Logger;
  /** Default SIGTERM and SIGINT. */
  signals?: readonly NodeJS.Signals[];
  /** Default the real `process`. */
  process?: ProcessPort;
}

/**
 * Runs a process: `start` opens its resources, registering each on the lifecycle it is given.
 * Resolves once `start` has finished (or failed and the process was told to exit). The process
 * then runs until SIGTERM or SIGINT, closes everything in the order of the module header, and
 * exits through one guarded path: 0 when every step succeeded, 1 otherwise, and 1 when start-up
 * failed (after closing what it had opened).
 */
export async function run(options: RunOptions, start: (life: Lifecycle) => Promise<void>): Promise<void> {
  const { logger, name } = options;
  const proc: ProcessPort = options.process ?? process;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const life = new Lifecycle({ logger });

  let exited = false;
  const exit = (code: number) => {
    if (exited) return;
    exited = true;
    proc.exit(code);
  };

  let startup: Promise<void> = Promise.resolve();
  const onSignal = (signal: NodeJS.Signals) => {
    for (const s of signals) proc.off(s, onSignal);
    logger.info({ signal }, `${name} shutting down`);
    // A signal during start-up waits for it to settle, so what it is still opening closes too.
    void startup
      .then(
        () => life.close(),
        () => life.close(),
      )
      .then((clean) => {
        logger.info({ clean }, clean ? `${name} stopped` : `${name} stopped with failed steps`);
        exit(clean ? 0 : 1);
      });
  };
  for (const signal of signals) proc.once(signal, onSignal);

  startup = start(life);
  try {
    await startup;
  } catch (err) {
    for (const s of signals) proc.off(s, onSignal);
    logger.fatal({ err }, `${name} failed to start`);
    await life.close();
    exit(1);
  }
}
