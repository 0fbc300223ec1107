import { createRequire } from 'node:module';
import { threadId } from 'node:worker_threads';
const require = createRequire('/work/main/packages/db/package.json');
const Pool = require('pg-pool');
const origNewClient = Pool.prototype.newClient;
Pool.prototype.newClient = function (pendingItem) {
  process.stderr.write(`PGNEW t${threadId} ${new Date().toISOString().slice(11,23)} total=${this.totalCount} waiting=${this.waitingCount}\n`);
  return origNewClient.call(this, pendingItem);
};
