/**
 * `npm run bench:sfu`: (a) one mediasoup worker fanning out to 500 consumers, against a baseline
 * of 50 consumers measured in the same run; (b) one 60-participant meeting over two workers.
 * Prints a table and writes docs/benchmarks-sfu.md. Loopback only, bounded to about 90 s.
 *
 * Env (this file is the benchmark's composition root): MEDIASOUP_WORKER_BIN (set by the npm
 * script), BENCH_SFU_SECONDS (measurement window, default 20), BENCH_SFU_PPS (packets per second
 * per video producer, default 150), BENCH_SFU_ONLY=fanout,room (subset).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WorkerPool, mediasoupVersion } from '@quorum/sfu/media';
import { requireMediasoupWorkerBin } from '@quorum/sfu/media/testing';
import { pino } from 'pino';
import { describeMachine, readDoc } from './bench-doc';
import { runFanOutBench, runRoomBench, type FanOutResult, type RoomBenchResult } from './sfu.bench';
import {
  printSfuBenchTables,
  renderSfuBenchmarksDoc,
  sfuBenchTables,
  type SfuBenchMachine,
  type SfuBenchSetup,
} from './sfu-benchmarks-doc';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = `${ROOT}docs/benchmarks-sfu.md`;
const DEADLINE_MS = 170_000;

const windowMs = Number(process.env.BENCH_SFU_SECONDS ?? 20) * 1_000;
const videoPps = Number(process.env.BENCH_SFU_PPS ?? 150);
const only = new Set((process.env.BENCH_SFU_ONLY ?? 'fanout,room').split(',').map((s) => s.trim()));
const log = (line: string) => process.stdout.write(`${line}\n`);
const logger = pino({ level: 'warn' }, pino.destination(2));

const FANOUT = { producers: 10, baselineViewers: 5, viewers: 50, payloadSize: 1_000 };
const ROOM = { participants: 60, speakers: 4, workers: 2, budget: 250, payloadSize: 1_000 };

const watchdog = setTimeout(() => {
  log(`bench:sfu exceeded ${DEADLINE_MS / 1_000} s; giving up`);
  process.exit(1);
}, DEADLINE_MS);
watchdog.unref();

const workerBin = requireMediasoupWorkerBin();
const machine: SfuBenchMachine = { ...describeMachine('npm run bench:sfu'), mediasoup: mediasoupVersion, workerBin };
log(`Quorum SFU benchmarks — ${machine.date}`);
log(`${machine.nproc} cores (${machine.cpu}), ${machine.node}, mediasoup ${machine.mediasoup}`);
log(`load average before start: ${machine.loadAverage}\n`);

const failures: string[] = [];
let baseline: FanOutResult | undefined;
let fanOut: FanOutResult | undefined;
let room: RoomBenchResult | undefined;

if (only.has('fanout')) {
  const pool = await WorkerPool.create({
    logger,
    workerCount: 1,
    consumerBudgetPerWorker: 100_000,
    webRtcServerBasePort: 'auto',
  });
  try {
    const common = {
      pool,
      producers: FANOUT.producers,
      packetsPerSecond: videoPps,
      payloadSize: FANOUT.payloadSize,
      windowMs,
      log,
    };
    log(`(a) baseline: ${FANOUT.producers} producers × ${FANOUT.baselineViewers} viewers on one worker`);
    baseline = await runFanOutBench({ ...common, consumersPerProducer: FANOUT.baselineViewers });
    log(`(a) ${FANOUT.producers} producers × ${FANOUT.viewers} viewers on one worker`);
    fanOut = await runFanOutBench({ ...common, consumersPerProducer: FANOUT.viewers });
  } catch (err) {
    failures.push(`(a) failed: ${(err as Error).stack ?? String(err)}`);
  } finally {
    pool.close();
  }
}

if (only.has('room')) {
  // Every microphone forwarded (no audible-speaker gating): the worst case for the workers, and
  // every packet sent is expected at every consumer.
  const pool = await WorkerPool.create({
    logger,
    workerCount: ROOM.workers,
    consumerBudgetPerWorker: ROOM.budget,
    webRtcServerBasePort: 'auto',
    audibleSpeakers: 0,
  });
  try {
    log(
      `(b) one meeting of ${ROOM.participants} participants (${ROOM.speakers} with camera + mic) over ${ROOM.workers} workers, budget ${ROOM.budget}`,
    );
    room = await runRoomBench({
      pool,
      participants: ROOM.participants,
      speakers: ROOM.speakers,
      videoPacketsPerSecond: videoPps,
      videoPayloadSize: ROOM.payloadSize,
      windowMs,
      log,
    });
  } catch (err) {
    failures.push(`(b) failed: ${(err as Error).stack ?? String(err)}`);
  } finally {
    pool.close();
  }
}

const setup: SfuBenchSetup = { fanOut: FANOUT, room: ROOM, videoPps, windowMs };
const results = { baseline, fanOut, room };
const tables = sfuBenchTables(setup, results, only);
const failedTargets = tables.targets.some((t) => t[2] === 'FAIL');
printSfuBenchTables(setup, results, tables, log);
for (const f of failures) log(`\n${f}`);

writeFileSync(DOC, renderSfuBenchmarksDoc(machine, setup, results, tables, failures, readDoc(DOC)));
log(`\nwrote ${DOC}`);
process.exit(failures.length || failedTargets ? 1 : 0);
