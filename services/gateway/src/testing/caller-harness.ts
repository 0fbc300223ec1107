/**
 * The gateway in process, for procedure tests through tRPC's `createCaller`: the embedded
 * adapters of `npm start` (PGlite, the PostgreSQL event store over it, the in-process bus, the
 * relay and the projector on this thread, development mail in a directory, in-process
 * placement), no HTTP server. Each call builds its context with `createContext`, as an HTTP
 * request would, so credentials are checked the real way: access tokens from `auth.signUp`,
 * keys from `apiKeys.create`, service tokens signed with the meetings' service secret.
 *
 * Starting PGlite and migrating it takes seconds, so a test file starts one harness and
 * isolates its tests by fresh users and organizations.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryBus } from '@quorum/bus';
import {
  createKysely,
  createPgliteSqlDatabase,
  migratePublicSchema,
  type Database,
  type SqlDatabase,
} from '@quorum/db';
import type { Role } from '@quorum/domain';
import { PostgresEventStore } from '@quorum/eventstore/postgres';
import { DirectoryMailer } from '@quorum/mail';
import { MemoryPlacement } from '@quorum/placement';
import { Projector } from '@quorum/projector/projector';
import { Relay } from '@quorum/relay/relay';
import { signServiceToken } from '@quorum/signaling/tokens';
import { TRPCError } from '@trpc/server';
import { pino } from 'pino';
import { ZodError } from 'zod';
import { authRateLimitOptions, createMemoryAuthRateLimiters } from '../auth/auth-rate-limits';
import { createContext, type IncomingCall } from '../context';
import { createGateway, signalingFromPlacement, type Gateway } from '../gateway';
import { OperatorsRepository } from '../operators/operators.repository';
import { appRouter } from '../router';
import { createCallerFactory, fieldErrorsOf, type FieldError } from '../trpc';

export const PASSWORD = 'correct horse battery staple';

export type Caller = ReturnType<typeof createCaller>;

/** What a caller presents; nothing is an anonymous caller. */
export interface Credentials {
  token?: string;
  apiKey?: string;
  serviceToken?: string;
  idempotencyKey?: string;
}

export interface TestUser {
  userId: string;
  email: string;
  token: string;
  refreshToken: string;
}

/** How a call was refused, in the terms an HTTP client gets them (`error.data`). */
export interface Refusal {
  code: TRPCError['code'];
  message: string;
  /** The domain reason (`AppError.reason`), when the refusal has one. */
  reason?: string;
  /** Fields of a malformed input, as `data.fieldErrors`. */
  fieldErrors?: FieldError[];
}

const createCaller = createCallerFactory(appRouter);

/** A unique email with a readable label. */
export function uniqueEmail(label: string): string {
  return `${label}-${randomUUID().slice(0, 12)}@example.com`;
}

/** The secret of an invitation link (`members.invite` answers it, and mails it). */
export function invitationToken(invite: { link: string }): string {
  return invite.link.slice(invite.link.lastIndexOf('/') + 1);
}

/** Calls the procedure at a dotted `path`, as a client naming it on the wire does. */
export function callPath(caller: Caller, path: string, input: unknown): Promise<unknown> {
  const procedure = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller);
  return (procedure as (input: unknown) => Promise<unknown>)(input);
}

/** A procedure's error as a refusal; anything but a tRPC error is thrown on. */
export function refusalOf(err: unknown): Refusal {
  if (!(err instanceof TRPCError)) throw err;
  const cause = err.cause as { reason?: unknown } | undefined;
  return {
    code: err.code,
    message: err.message,
    ...(typeof cause?.reason === 'string' ? { reason: cause.reason } : {}),
    ...(err.cause instanceof ZodError ? { fieldErrors: fieldErrorsOf(err.cause) } : {}),
  };
}

/** The refusal `call` ends in; a call that succeeds fails the test. */
export async function refusal(call: Promise<unknown>): Promise<Refusal> {
  let result: unknown;
  try {
    result = await call;
  } catch (err) {
    return refusalOf(err);
  }
  throw new Error(`expected a refusal, got ${JSON.stringify(result)?.slice(0, 200)}`);
}

export interface CallerHarness {
  gateway: Gateway;
  sql: SqlDatabase;
  store: PostgresEventStore;
  mailer: DirectoryMailer;
  /** A caller presenting `credentials` on every call, each call with a fresh context as over HTTP. */
  caller(credentials?: Credentials, options?: { signal?: AbortSignal }): Caller;
  /** A caller with a service token, as an SFU node calls. */
  service(subject?: string): Caller;
  signUp(label: string): Promise<TestUser>;
  /** An organization created by `owner`; pro by default (API access, 25 seats). */
  createOrg(owner: TestUser, plan?: 'free' | 'pro' | 'business'): Promise<{ orgId: string; position: string }>;
  /** A new user, invited with `role` by `inviter` and accepted; the read model has them on return. */
  addMember(orgId: string, inviter: TestUser, role: Role, label?: string): Promise<TestUser & { position: string }>;
  /** Grants and revocations of operator access, as the operators command line writes them. */
  operators: OperatorsRepository;
  /** A new user granted operator access (Quorum's finance team), as the command line grants it. */
  signUpOperator(label?: string): Promise<TestUser>;
  /** The last appended position once every append is visible: "nothing was appended" compares two. */
  settledHead(): Promise<bigint>;
  close(): Promise<void>;
}

export interface CallerHarnessOptions {
  /** Operators named in configuration, as `QUORUM_OPERATORS` names them (user ids or addresses). */
  operators?: readonly string[];
}

/** Starts the gateway over the embedded adapters; `close()` stops it and removes its files. */
export async function startCallerHarness(options: CallerHarnessOptions = {}): Promise<CallerHarness> {
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' });
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c();
  };
  try {
    const mailDir = await mkdtemp(join(tmpdir(), 'quorum-caller-mail-'));
    closers.push(() => rm(mailDir, { recursive: true, force: true }));
    const sql = await createPgliteSqlDatabase();
    closers.push(() => sql.close());
    await migratePublicSchema(sql);
    const store = await PostgresEventStore.create(sql);
    closers.push(() => store.close());
    const bus = createMemoryBus();
    closers.push(() => bus.close());
    await bus.ensureStream();
    const relay = await Relay.create({ store, bus, sql, logger, checkpointIntervalMs: 0 });
    relay.start();
    closers.push(() => relay.close());
    const projector = await Projector.create({ sql, bus, store, logger });
    closers.push(() => projector.close());
    await projector.start();

    const placement = new MemoryPlacement();
    closers.push(() => placement.close());
    // A node's heartbeat, as a live SFU would send it: `meetings.join` answers its signaling URL.
    await placement.heartbeat(
      { nodeId: 'sfu-test', signalingUrl: 'ws://sfu.test/sfu', load: 0, capacity: 500, instance: 'run-1' },
      24 * 3_600_000,
    );
    const mailer = new DirectoryMailer({ dir: mailDir, from: 'quorum@example.com', logger });
    const serviceSecret = randomBytes(32).toString('hex');
    // One client calls from one address, so per-address limits would count a whole file as one caller.
    const limits = authRateLimitOptions({ loginByIp: 100_000, signUp: 100_000 });
    const gateway = await createGateway({
      sql,
      store,
      logger,
      mailer,
      authSecret: randomBytes(32).toString('hex'),
      waitForPosition: (position, timeoutMs) => projector.waitForPosition(position, timeoutMs),
      onProjected: (listener) => projector.onAdvance(listener),
      rateLimiter: createMemoryAuthRateLimiters(limits),
      meetings: {
        joinTokenSecret: randomBytes(32).toString('hex'),
        joinTokenTtlSeconds: 60,
        serviceSecret,
        iceServers: [],
        emptyGraceMs: 60_000,
        signalingUrlFor: signalingFromPlacement(placement),
      },
      // Sweeps run only when a test asks (`gateway.sweeper.sweep()`), never behind its back.
      emptySweepIntervalMs: 0,
      revocationPollMs: 0,
      // Webhook endpoints in tests point at receivers on http://127.0.0.1.
      webhooks: { policy: { allowHttp: true, allowLoopback: true } },
      ...(options.operators ? { operators: options.operators } : {}),
    });
    closers.push(() => gateway.http.close());
    const { deps } = gateway;

    const caller = (credentials: Credentials = {}, options: { signal?: AbortSignal } = {}): Caller =>
      createCaller(() => {
        const call: IncomingCall = {
          bearer: credentials.token,
          apiKey: credentials.apiKey,
          serviceToken: credentials.serviceToken,
          idempotencyKey: credentials.idempotencyKey,
          cookies: {},
          origin: { host: 'quorum.test', secure: false },
          clientIp: '127.0.0.1',
        };
        return createContext(deps, call);
      }, options);

    const signUp = async (label: string): Promise<TestUser> => {
      const email = uniqueEmail(label);
      const s = await caller().auth.signUp({ email, password: PASSWORD, name: label });
      return { userId: s.user.id, email, token: s.accessToken, refreshToken: s.refreshToken };
    };

    const operators = new OperatorsRepository(createKysely<Database>(sql));

    const settledHead = async (timeoutMs = 5_000): Promise<bigint> => {
      const { rows } = await sql.query<{ last: string | null }>('SELECT max(position)::text AS last FROM es_events');
      const last = rows[0]?.last == null ? 0n : BigInt(rows[0].last);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const head = await store.headPosition();
        if (head >= last) return head;
        if (Date.now() > deadline)
          throw new Error(`the store's head stayed at ${head}, below the last committed position ${last}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };

    return {
      gateway,
      sql,
      store,
      mailer,
      caller,
      service: (subject = 'sfu:test') =>
        caller({ serviceToken: signServiceToken(subject, serviceSecret, Math.floor(Date.now() / 1000)) }),
      signUp,
      createOrg: (owner, plan = 'pro') =>
        caller({ token: owner.token }).org.create({ name: `Org ${randomUUID().slice(0, 8)}`, plan }),
      async addMember(orgId, inviter, role, label = role) {
        const user = await signUp(label);
        const invite = await caller({ token: inviter.token }).members.invite({ orgId, email: user.email, role });
        const { position } = await caller({ token: user.token }).members.accept({
          orgId,
          invitationId: invite.invitationId,
          token: invitationToken(invite),
        });
        await caller({ token: inviter.token }).members.list({ orgId, minPosition: position });
        return { ...user, position };
      },
      operators,
      async signUpOperator(label = 'operator') {
        const user = await signUp(label);
        await operators.grant(user.userId, 'caller-harness');
        return user;
      },
      settledHead,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
