import pg from 'pg';
const c = new pg.Client({ connectionString: 'postgres://quorum:quorum@127.0.0.1:5432/quorum' }); await c.connect();
const end = Date.now() + Number(process.argv[2]) * 1000;
while (Date.now() < end) {
  const { rows } = await c.query(`select pid, datname, application_name, backend_type, state, wait_event_type, wait_event, extract(epoch from now()-xact_start)*1000 as xms, left(query,80) q from pg_stat_activity where backend_xid is not null and now()-xact_start > interval '40 ms' order by xact_start limit 3`);
  for (const r of rows) console.log(new Date().toISOString().slice(11, 23), r.pid, r.datname?.slice(0,20), r.application_name, r.backend_type, r.state, r.wait_event_type, r.wait_event, Math.round(r.xms), r.q);
  await new Promise((r) => setTimeout(r, 15));
}
await c.end();
