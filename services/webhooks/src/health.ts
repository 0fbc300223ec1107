/** `/health` (live) and `/health/ready` (the database answers; the delivery backlog in the detail). */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Webhooks } from './webhooks';

export function createHealthServer(webhooks: Webhooks, logger: Logger): Server {
  return createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, { error: 'method not allowed' });
    if (path === '/health') return send(200, { status: 'ok' });
    if (path !== '/health/ready') return send(404, { error: 'not found' });
    webhooks.readiness().then(
      (ready) => send(ready.ok ? 200 : 503, { status: ready.ok ? 'ready' : 'degraded', ...ready.detail }),
      (err: unknown) => {
        logger.warn({ err }, 'readiness check failed');
        send(503, { status: 'unavailable', error: err instanceof Error ? err.message : String(err) });
      },
    );
  });
}
