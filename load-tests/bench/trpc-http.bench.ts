/**
 * CPU per tRPC call over HTTP: tRPC's standalone adapter against the gateway's own
 * (`services/gateway/src/http/trpc-http.ts`), with one router and one procedure (zod input,
 * JSON answer), and a plain `node:http` handler answering the same JSON as the floor. Each runs
 * 2,000 warm-up calls, then 10,000 calls, 8 at a time over keep-alive, in this process
 * (client and server), so the figures are CPU per call for both ends together; the
 * differences between rows are the server's.
 *
 *   node --import tsx load-tests/bench/trpc-http.bench.ts
 */
import http from 'node:http';
import { initTRPC } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { createTrpcHttpHandler } from '@quorum/gateway/trpc-http';
import { z } from 'zod';

const t = initTRPC.create();
const router = t.router({
  'seats.purchase': t.procedure
    .input(z.object({ orgId: z.string(), quantity: z.number() }))
    .mutation(({ input }) => ({ position: '123', quantity: input.quantity })),
});
const MAX_BODY = 1024 * 1024;

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const plain: Handler = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { quantity: number };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ result: { data: { position: '123', quantity: body.quantity } } }));
  });
};
const handlers: Array<[string, Handler]> = [
  ['plain node:http (floor)', plain],
  ['tRPC standalone adapter', createHTTPHandler({ router, basePath: '/trpc/', maxBodySize: MAX_BODY })],
  [
    'gateway createTrpcHttpHandler',
    createTrpcHttpHandler({ router, basePath: '/trpc/', maxBodySize: MAX_BODY, createContext: async () => ({}) }),
  ],
];

const rows: Array<{ name: string; cpuUs: number; wallUs: number }> = [];
for (const [name, handler] of handlers) {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const payload = JSON.stringify({ orgId: 'org', quantity: 1 });
  const call = () =>
    new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/trpc/seats.purchase',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () =>
            res.statusCode === 200 ? resolve(text) : reject(new Error(`${name}: ${res.statusCode} ${text}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const answer = JSON.parse(await call()) as { result: { data: { quantity: number } } };
  if (answer.result.data.quantity !== 1) throw new Error(`${name}: unexpected answer ${JSON.stringify(answer)}`);
  for (let i = 0; i < 2_000; i++) await call();
  const calls = 10_000;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 0; i < calls; i += 8) await Promise.all(Array.from({ length: 8 }, call));
  const cpu = process.cpuUsage(cpu0);
  rows.push({ name, cpuUs: (cpu.user + cpu.system) / calls, wallUs: ((performance.now() - wall0) * 1_000) / calls });
  agent.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
const standalone = rows[1]!.cpuUs;
console.log('handler                          CPU µs/call  wall µs/call  CPU vs standalone');
for (const r of rows)
  console.log(
    `${r.name.padEnd(32)} ${r.cpuUs.toFixed(0).padStart(11)}  ${r.wallUs.toFixed(0).padStart(12)}  ${(r.cpuUs / standalone).toFixed(2)}×`,
  );
