/** `/health` (live) and `/health/ready` (database reachable and no unresolved dead letters). */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Projector } from './projector';

export function createHealthServer(projector: Projector, logger: Logger): Server {
  return createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, { error: 'method not allowed' });
    if (path === '/health') return send(200, { status: 'ok' });
    if (path !== '/health/ready') return send(404, { error: 'not found' });
    void (async () => {
      try {
        const status = await projector.status();
        if (!status.degraded) return send(200, { status: 'ready', ...status });
        send(503, { status: 'degraded', ...status, deadLetterEvents: await projector.deadLetters() });
      } catch (err) {
        logger.warn({ err }, 'readiness check failed');
        send(503, { status: 'unavailable', error: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
}
