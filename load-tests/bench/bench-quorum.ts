/**
 * Quorum as a child process on a fresh database and a NATS namespace of its own, with the
 * users and business organizations that the command benchmarks send `seats.purchase` /
 * `seats.release` for. Parts (b)'s fixed-rate lag and its capacity search both start one.
 */
import { randomBytes } from 'node:crypto';
import { createBenchDatabase, deleteBusStream, NATS_URL, type BenchDatabase } from './env';
import { createClient, freePort, startQuorum, stopQuorum, type Child } from './quorum-child';
import { sleep } from './stats';

export interface BenchOrg {
  orgId: string;
  token: string;
}

export type BenchClient = ReturnType<typeof createClient>;

export interface BenchQuorum {
  child: Child;
  client: BenchClient;
  database: BenchDatabase;
  port: number;
  namespace: string;
  orgs: BenchOrg[];
  /** The position of the last set-up write: a read with this `minPosition` sees every org's 10 seats. */
  setupPosition: string;
  close(): Promise<void>;
}

export interface BenchQuorumOptions {
  orgs: number;
  /** Sign-up is limited to 20 per IP per hour in each child. */
  users: number;
  log: (line: string) => void;
}

/** Starts Quorum, waits for /health/ready, signs up `users` and creates `orgs` orgs with 10 seats each. */
export async function startBenchQuorum({
  orgs: orgCount,
  users: userCount,
  log,
}: BenchQuorumOptions): Promise<BenchQuorum> {
  const database = await createBenchDatabase();
  const namespace = `bench_${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const child = startQuorum({
    DATABASE_URL: database.url,
    NATS_URL,
    NATS_NAMESPACE: namespace,
    PORT: String(port),
    HOST: '127.0.0.1',
    AUTH_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    // The command path alone: no SFU node (meetings have their own bench, bench:sfu).
    SFU: 'off',
    NODE_ENV: 'production',
  });
  const client = createClient(port);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    client.close();
    await stopQuorum(child);
    await deleteBusStream(namespace);
    await database.drop();
  };
  try {
    const readyBy = performance.now() + 90_000;
    for (;;) {
      if (child.proc.exitCode !== null)
        throw new Error(`Quorum exited with ${child.proc.exitCode}:\n${child.output.slice(-20).join('\n')}`);
      // Connection refused until the child listens: keep polling.
      const a = await client
        .request('GET', '/health/ready', undefined)
        .catch((err: Error) => (err.message.includes('ECONNREFUSED') ? undefined : Promise.reject(err)));
      if (a?.status === 200) break;
      if (performance.now() > readyBy)
        throw new Error(`Quorum not ready after 90 s:\n${child.output.slice(-20).join('\n')}`);
      await sleep(200);
    }
    log(`  Quorum child pid ${child.proc.pid} ready on :${port} (NATS namespace ${namespace})`);

    const { orgs, setupPosition } = await setUpOrgs(client, { orgs: orgCount, users: userCount });
    return { child, client, database, port, namespace, orgs, setupPosition, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Signs up `users` users and creates `orgs` organizations on the business plan with 10 seats
 * each, then checks the first one reads back 10 seats at the last set-up position.
 */
export async function setUpOrgs(
  client: BenchClient,
  { orgs: orgCount, users: userCount }: { orgs: number; users: number },
): Promise<{ orgs: BenchOrg[]; setupPosition: string }> {
  const tag = randomBytes(3).toString('hex');
  const users: string[] = [];
  for (let u = 0; u < userCount; u++) {
    const r = await client.call<{ accessToken: string }>('POST', 'auth.signUp', {
      email: `bench-${tag}-${u}@example.com`,
      password: 'correct horse battery staple',
      name: `Bench User ${u}`,
    });
    users.push(r.accessToken);
  }
  const orgs: BenchOrg[] = [];
  for (let o = 0; o < orgCount; o++) {
    const token = users[o % users.length]!;
    const r = await client.call<{ orgId: string }>(
      'POST',
      'org.create',
      { name: `Bench ${tag} ${o}`, plan: 'business' },
      token,
    );
    orgs.push({ orgId: r.orgId, token });
  }
  let setupPosition = '0';
  await Promise.all(
    orgs.map(async (org) => {
      const r = await client.call<{ position: string }>(
        'POST',
        'seats.purchase',
        { orgId: org.orgId, quantity: 10 },
        org.token,
      );
      if (BigInt(r.position) > BigInt(setupPosition)) setupPosition = r.position;
    }),
  );
  const first = orgs[0]!;
  const seats = await client.call<{ purchased: number }>(
    'GET',
    'seats.get',
    { orgId: first.orgId, minPosition: setupPosition },
    first.token,
  );
  if (seats.purchased !== 10)
    throw new Error(`set-up check: expected 10 purchased seats, read ${JSON.stringify(seats)}`);
  return { orgs, setupPosition };
}

/** The command a benchmark sends `i`-th: round-robin over the orgs, purchase and release alternating per org. */
export function commandFor(orgs: readonly BenchOrg[], i: number): { org: BenchOrg; procedure: string } {
  const org = orgs[i % orgs.length]!;
  const procedure = Math.floor(i / orgs.length) % 2 === 0 ? 'seats.purchase' : 'seats.release';
  return { org, procedure };
}
