/**
 * `GET /schemas/…`: the JSON Schemas of the public event contract (the envelope, each public
 * type's data, an index), generated from the zod schemas. Public: they describe the contract,
 * not any organization's data.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { publicSchemas, type JsonSchemaDocument } from '@quorum/domain';
import type { GatewayDeps } from '../deps';
import { publicBaseUrl } from './base-url';

export function createSchemasRoute(deps: GatewayDeps) {
  // One generation per origin the gateway is reached at (one, or a few behind proxies).
  const byBase = new Map<string, ReadonlyMap<string, JsonSchemaDocument>>();
  return (req: IncomingMessage, res: ServerResponse, path: string): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'application/json', allow: 'GET, HEAD' });
      res.end(JSON.stringify({ error: 'schemas are read with GET' }));
      return;
    }
    const base = publicBaseUrl(req, deps);
    let schemas = byBase.get(base);
    if (!schemas) {
      if (byBase.size >= 8) byBase.clear();
      schemas = publicSchemas(base);
      byBase.set(base, schemas);
    }
    const schema = schemas.get(path);
    if (!schema) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `no schema at ${path}; the list is at /schemas/index.json` }));
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/schema+json',
      'cache-control': 'public, max-age=300',
      'access-control-allow-origin': '*',
    });
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify(schema, null, 2));
  };
}
