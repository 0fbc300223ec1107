/**
 * The standalone SFU node's HTTP server: signaling upgrades at `/sfu`, `/health` (live),
 * `/health/ready` (workers up), and `/sfu/state` for operators on the same host.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { verifyServiceToken } from '@quorum/signaling/tokens';
import type { Sfu } from './sfu';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * `/sfu/state` names meetings and participants: only for a request from this host that carries
 * a service token (`x-quorum-service-token`, signed with `SFU_SERVICE_SECRET`, as SFU nodes sign
 * their reports), so a reverse proxy on the same host does not open it to everyone.
 */
export function serveSfuState(sfu: Sfu, req: IncomingMessage, res: ServerResponse, serviceSecret: string): void {
  if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) return json(res, 403, { error: 'only from this host' });
  const header = req.headers['x-quorum-service-token'];
  const token = Array.isArray(header) ? header[0] : header;
  const verified = token ? verifyServiceToken(token, serviceSecret, Math.floor(Date.now() / 1000)) : undefined;
  if (!verified?.ok)
    return json(res, 401, {
      error: `a service token (x-quorum-service-token) is required${verified ? `: ${verified.reason}` : ''}`,
    });
  json(res, 200, { meetings: sfu.server.getState(), media: sfu.pool.getState() });
}

export interface SfuHttpServer {
  server: Server;
  listen(port: number, host: string): Promise<{ port: number }>;
  close(): Promise<void>;
}

export function createSfuHttpServer(sfu: Sfu, serviceSecret: string): SfuHttpServer {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return json(res, 200, { status: 'ok' });
    if (path === '/health/ready') {
      const workers = sfu.pool.liveWorkers().length;
      return json(res, workers > 0 ? 200 : 503, { ready: workers > 0, workers, expected: sfu.pool.workerCount });
    }
    if (path === '/sfu/state') return serveSfuState(sfu, req, res, serviceSecret);
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
