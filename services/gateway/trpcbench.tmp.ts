import http from 'node:http';
import { initTRPC } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { resolveResponse } from '@trpc/server/http';
import { z } from 'zod';
const t = initTRPC.create();
const router = t.router({ 'seats.purchase': t.procedure.input(z.object({ orgId: z.string(), quantity: z.number() })).mutation(({ input }) => ({ position: '123', q: input.quantity })) });
const trpcHandler = createHTTPHandler({ router, basePath: '/trpc/' });
const readBody = (req: http.IncomingMessage) => new Promise<string>((resolve) => { const chunks: Buffer[] = []; req.on('data', (c) => chunks.push(c)); req.on('end', () => resolve(Buffer.concat(chunks).toString())); });
const plain = (req: http.IncomingMessage, res: http.ServerResponse) => { readBody(req).then((b) => { const body = JSON.parse(b); res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ result: { data: { position: '123', q: body.quantity } } })); }); };
const preread = (req: http.IncomingMessage, res: http.ServerResponse) => { readBody(req).then((b) => { (req as any).body = b; trpcHandler(req, res); }); };
const custom = (req: http.IncomingMessage, res: http.ServerResponse) => {
  readBody(req).then(async (b) => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : b });
    const response = await resolveResponse({ router, req: request, path: (req.url ?? '').slice(6).split('?')[0]!, createContext: async () => ({}), error: null });
    res.statusCode = response.status;
    for (const [k, v] of response.headers) res.setHeader(k, v);
    res.end(await response.text());
  });
};
for (const [name, handler] of [['plain', plain], ['trpc', trpcHandler], ['preread', preread], ['custom', custom], ['trpc', trpcHandler]] as const) {
  const server = http.createServer(handler as any); await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as any).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const call = () => new Promise<string>((resolve, reject) => { const payload = JSON.stringify({ orgId: 'x', quantity: 1 }); const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/trpc/seats.purchase', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => { let s = ''; res.on('data', (c) => (s += c)); res.on('end', () => resolve(s)); }); req.on('error', reject); req.end(payload); });
  const sample = await call();
  for (let i = 0; i < 2000; i++) await call();
  const N = 10000; const cpu0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < N; i += 8) await Promise.all(Array.from({ length: 8 }, call));
  const cpu = process.cpuUsage(cpu0);
  console.log(name.padEnd(8), 'µs wall/req', ((performance.now() - t0) * 1000 / N).toFixed(0), 'cpu µs/req', ((cpu.user + cpu.system) / N).toFixed(0), sample);
  agent.destroy(); server.close();
}
