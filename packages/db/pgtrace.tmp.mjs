import { createRequire } from 'node:module';
import { threadId } from 'node:worker_threads';
const require = createRequire('/work/main/packages/db/package.json');
const pg = require('pg');
const Pool = require('pg-pool');
const origConnect = Pool.prototype.connect;
Pool.prototype.connect = function (cb) {
  const t0 = performance.now(); const pool = this;
  const waiting0 = pool.waitingCount, total0 = pool.totalCount, idle0 = pool.idleCount;
  const log = () => { const ms = performance.now() - t0; if (ms > 50) process.stderr.write(`PGWAIT t${threadId} ${new Date().toISOString().slice(11,23)} acquire ${ms.toFixed(0)}ms waiting=${waiting0} total=${total0} idle=${idle0}\n`); };
  if (cb) return origConnect.call(this, (e, c, d) => { log(); cb(e, c, d); });
  return origConnect.call(this).then((c) => { log(); return c; });
};
const origQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, values, cb) {
  const t0 = performance.now();
  const text = typeof config === 'string' ? config : config?.text ?? '';
  const r = origQuery.call(this, config, values, cb);
  if (r && typeof r.then === 'function') r.then(() => { const ms = performance.now() - t0; if (ms > 50) process.stderr.write(`PGSLOW t${threadId} ${new Date().toISOString().slice(11,23)} ${ms.toFixed(0)}ms ${text.replace(/\s+/g,' ').slice(0,60)}\n`); }, () => {});
  return r;
};
