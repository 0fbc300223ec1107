import { createRequire } from 'node:module';
import { threadId } from 'node:worker_threads';
const require = createRequire('/work/main/packages/db/package.json');
const pg = require('pg');
const Pool = require('pg-pool');
let agg = { acq: 0, acqMax: 0, q: 0, qMax: 0, qText: '', waitingMax: 0, n: 0 };
const origConnect = Pool.prototype.connect;
Pool.prototype.connect = function (cb) {
  const t0 = performance.now(); agg.waitingMax = Math.max(agg.waitingMax, this.waitingCount);
  const done = () => { const ms = performance.now() - t0; if (ms > 20) { agg.acq++; agg.acqMax = Math.max(agg.acqMax, ms); } };
  if (cb) return origConnect.call(this, (e, c, d) => { done(); cb(e, c, d); });
  return origConnect.call(this).then((c) => { done(); return c; });
};
const origQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, values, cb) {
  const t0 = performance.now(); agg.n++;
  const r = origQuery.call(this, config, values, cb);
  if (r && typeof r.then === 'function') r.then(() => { const ms = performance.now() - t0; if (ms > 20) { agg.q++; if (ms > agg.qMax) { agg.qMax = ms; agg.qText = (typeof config === 'string' ? config : config?.text ?? '').replace(/\s+/g, ' ').slice(0, 50); } } }, () => {});
  return r;
};
setInterval(() => {
  if (agg.acqMax > 50 || agg.qMax > 50) process.stderr.write(`PGAGG t${threadId} ${new Date().toISOString().slice(11,22)} n=${agg.n} slowAcq=${agg.acq} maxAcq=${agg.acqMax.toFixed(0)} waitingMax=${agg.waitingMax} slowQ=${agg.q} maxQ=${agg.qMax.toFixed(0)} ${agg.qText}\n`);
  agg = { acq: 0, acqMax: 0, q: 0, qMax: 0, qText: '', waitingMax: 0, n: 0 };
}, 250).unref();
