import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookSender, RESPONSE_EXCERPT_BYTES } from './send';
import type { Resolver } from './url-guard';

const DEV = { allowHttp: true, allowLoopback: true };
const STRICT = { allowHttp: true, allowLoopback: false };

let server: Server;
let base: string;
const received: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/ok': (_req, res) => res.writeHead(204).end(),
  '/redirect': (_req, res) => res.writeHead(302, { location: '/ok' }).end(),
  '/big': (_req, res) =>
    res.writeHead(500, { 'content-type': 'text/plain' }).end('x'.repeat(RESPONSE_EXCERPT_BYTES * 3)),
  '/slow': () => undefined,
  '/busy': (_req, res) => res.writeHead(429, { 'retry-after': '7' }).end('slow down'),
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      (routes[req.url ?? ''] ?? ((_q, r: ServerResponse) => r.writeHead(404).end()))(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('sendWebhook', () => {
  it('posts the body with the given headers and reports the answer', async () => {
    const sender = createWebhookSender({ policy: DEV });
    const outcome = await sender.send(
      `${base}/ok`,
      { 'webhook-id': 'msg_1', 'content-type': 'application/json' },
      '{"a":1}',
    );
    sender.close();
    expect(outcome).toMatchObject({ kind: 'response', status: 204, body: '', truncated: false });
    const last = received.at(-1);
    expect(last).toMatchObject({ path: '/ok', body: '{"a":1}' });
    expect(last?.headers['webhook-id']).toBe('msg_1');
    expect(last?.headers['content-length']).toBe('7');
  });

  it('does not follow a redirect: the 3xx is the answer', async () => {
    const sender = createWebhookSender({ policy: DEV });
    const before = received.length;
    const outcome = await sender.send(`${base}/redirect`, {}, '{}');
    sender.close();
    expect(outcome).toMatchObject({ kind: 'response', status: 302, headers: { location: '/ok' } });
    expect(received.slice(before).map((r) => r.path)).toEqual(['/redirect']);
  });

  it('keeps a few KiB of a long answer, and the answer headers', async () => {
    const sender = createWebhookSender({ policy: DEV });
    const big = await sender.send(`${base}/big`, {}, '{}');
    const busy = await sender.send(`${base}/busy`, {}, '{}');
    sender.close();
    expect(big).toMatchObject({ kind: 'response', status: 500, truncated: true });
    expect(big.kind === 'response' && big.body.length).toBe(RESPONSE_EXCERPT_BYTES);
    expect(busy).toMatchObject({ kind: 'response', status: 429, body: 'slow down', headers: { 'retry-after': '7' } });
  });

  it('gives up at the deadline with a timeout', async () => {
    const sender = createWebhookSender({ policy: DEV, timeoutMs: 300 });
    const outcome = await sender.send(`${base}/slow`, {}, '{}');
    sender.close();
    expect(outcome).toMatchObject({ kind: 'error', error: 'timeout' });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(290);
  });

  it('never connects to a refused address: the receiver sees nothing', async () => {
    const rebinding: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const sender = createWebhookSender({ policy: STRICT, resolve: rebinding });
    const before = received.length;
    const port = new URL(base).port;
    const byName = await sender.send(`http://hooks.example.com:${port}/ok`, {}, '{}');
    const byAddress = await sender.send(`${base}/ok`, {}, '{}');
    sender.close();
    expect(byName).toMatchObject({ kind: 'error', error: 'address_not_allowed' });
    expect(byAddress).toMatchObject({ kind: 'error', error: 'address_not_allowed' });
    expect(received.length).toBe(before);
  });

  it('refuses plain http unless allowed, and reports a refused connection', async () => {
    const sender = createWebhookSender({ policy: { allowHttp: false, allowLoopback: true } });
    expect(await sender.send(`${base}/ok`, {}, '{}')).toMatchObject({ kind: 'error', error: 'invalid_url' });
    sender.close();
    const closedPort = createWebhookSender({ policy: DEV });
    expect(await closedPort.send('http://127.0.0.1:1/ok', {}, '{}')).toMatchObject({
      kind: 'error',
      error: 'connection',
    });
    closedPort.close();
  });
});
