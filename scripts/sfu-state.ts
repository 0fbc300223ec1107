/**
 * Prints what an SFU node holds (`GET /sfu/state`), for operators on the node's host. The
 * endpoint wants a service token: this signs one with the node's `SFU_SERVICE_SECRET` (or, for
 * `npm start`, the secret generated in `DATA_DIR`).
 *
 *   node --import tsx scripts/sfu-state.ts [http://127.0.0.1:3000]
 *   SFU_SERVICE_SECRET=… node --import tsx scripts/sfu-state.ts http://127.0.0.1:3100
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signServiceToken } from '@quorum/signaling/tokens';

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const file = join(process.env.DATA_DIR ?? '.data', 'sfu-service-secret');
const secret = process.env.SFU_SERVICE_SECRET ?? (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined);
if (!secret) {
  process.stderr.write(`no SFU_SERVICE_SECRET and no ${file}: set SFU_SERVICE_SECRET to the node's secret\n`);
  process.exit(2);
}
const res = await fetch(new URL('/sfu/state', base), {
  headers: { 'x-quorum-service-token': signServiceToken('operator', secret, Math.floor(Date.now() / 1000)) },
});
process.stdout.write(`${JSON.stringify(await res.json(), null, 2)}\n`);
if (!res.ok) process.exit(1);
