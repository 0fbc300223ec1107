import pg from 'pg';
const c = new pg.Client({ connectionString: 'postgres://quorum:quorum@127.0.0.1:5432/quorum' }); await c.connect();
const end = Date.now() + Number(process.argv[2]) * 1000;
let last = '', lastLsn = null, t0 = Date.now();
while (Date.now() < end) {
  const t = performance.now();
  const { rows } = await c.query(`select pg_walfile_name(pg_current_wal_lsn()) f, pg_current_wal_lsn() l`);
  const rt = performance.now() - t;
  if (rows[0].f !== last) { console.log(new Date().toISOString().slice(11, 23), 'switch', rows[0].f, rows[0].l); last = rows[0].f; }
  if (rt > 50) console.log(new Date().toISOString().slice(11, 23), 'slow probe', rt.toFixed(0));
  await new Promise((r) => setTimeout(r, 50));
}
await c.end();
