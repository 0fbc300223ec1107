/**
 * The standalone SFU node's HTTP server: signaling upgrades at `/sfu`, `/health` (live),
 * `/health/ready` (workers up), and `/sfu/state` for operators on the same host.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Sfu } from './sfu';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** `/sfu/state` for a request from this host; 403 otherwise (it names meetings and participants). */
export function serveSfuState(sfu: Sfu, req: IncomingMessage, res: ServerResponse): void {
  if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) return json(res, 403, { error: 'only from this host' });
  json(res, 200, { meetings: sfu.server.getState(), media: sfu.pool.getState() });
}

export interface SfuHttpServer {
  server: Server;
  listen(port: number, host: string): Promise<{ port: number }>;
  close(): Promise<void>;
}

export function createSfuHttpServer(sfu: Sfu): SfuHttpServer {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return json(res, 200, { status: 'ok' });
    if (path === '/health/ready') {
      const workers = sfu.pool.liveWorkers().length;
      return json(res, workers > 0 ? 200 : 503, { ready: workers > 0, workers, expected: sfu.pool.workerCount });
    }
    if (path === '/sfu/state') return serveSfuState(sfu, req, res);
    json(res, 404, { error: 'not found' });
  });
  server.on('upgrade', (req, socket, head) => {
    if ((req.url ?? '').split('?')[0] !== '/sfu') return socket.destroy();
    sfu.server.handleUpgrade(req, socket, head);
  });
  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          resolve({ port: typeof address === 'object' && address ? address.port : port });
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
