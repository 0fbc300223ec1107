/**
 * `npm run bench:sfu`: (a) one mediasoup worker fanning out to 500 consumers, against a baseline
 * of 50 consumers measured in the same run; (b) one 60-participant meeting over two workers.
 * Prints a table and writes docs/benchmarks-sfu.md. Loopback only, bounded to about 90 s.
 *
 * Env (this file is the benchmark's composition root): MEDIASOUP_WORKER_BIN (set by the npm
 * script), BENCH_SFU_SECONDS (measurement window, default 20), BENCH_SFU_PPS (packets per second
 * per video producer, default 150), BENCH_SFU_ONLY=fanout,room (subset).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { WorkerPool, mediasoupVersion } from '@quorum/sfu/media';
import { requireMediasoupWorkerBin } from '@quorum/sfu/media/testing';
import { pino } from 'pino';
import { runFanOutBench, runRoomBench, type FanOutResult, type RoomBenchResult } from './sfu.bench';
import { int, markdownTable, textTable, verdict, type Row } from './stats';

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

function cpuModel(): string {
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m?.[1]?.trim() ?? os.cpus()[0]?.model ?? '?';
  } catch {
    return os.cpus()[0]?.model ?? '?'; // no /proc/cpuinfo (not Linux): Node's own view
  }
}

const workerBin = requireMediasoupWorkerBin();
const machine = {
  date: new Date().toISOString(),
  command: 'npm run bench:sfu',
  nproc: os.availableParallelism(),
  cpu: cpuModel(),
  ramGiB: (os.totalmem() / 2 ** 30).toFixed(1),
  kernel: `${os.type()} ${os.release()}`,
  node: process.version,
  mediasoup: mediasoupVersion,
  workerBin,
  loadAverage: os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' '),
};
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

// ---- tables -------------------------------------------------------------------------------
const percent = (ratio: number, digits = 2) => (Number.isFinite(ratio) ? `${(ratio * 100).toFixed(digits)}%` : 'n/a');

const fanOutHeader: Row = [
  'run',
  'consumers on the worker',
  'forwarded packets/s',
  'loss (all consumers)',
  'worst consumer loss',
  'worker CPU (one core)',
  'CPU-ms/s per consumer',
  'per consumer vs baseline',
  'generator CPU',
];
const fanOutRow = (name: string, r: FanOutResult): Row => [
  name,
  int(r.consumers),
  int(r.forwardedPerSecond),
  percent(r.lossRatio, 3),
  percent(r.worstConsumerLoss, 2),
  percent(r.workerCpuPercent / 100, 1),
  r.cpuMsPerSecondPerConsumer.toFixed(3),
  baseline ? `${(r.cpuMsPerSecondPerConsumer / baseline.cpuMsPerSecondPerConsumer).toFixed(2)}×` : 'n/a',
  percent(r.generatorCpuPercent / 100, 0),
];
const fanOutRows: Row[] = [
  ...(baseline ? [fanOutRow('baseline', baseline)] : []),
  ...(fanOut ? [fanOutRow('load', fanOut)] : []),
];

const roomHeader: Row = ['measure', 'value'];
const roomRows: Row[] = room
  ? [
      [
        'participants / senders',
        `${room.participants} / ${room.speakers} (camera ${videoPps} packets/s × ${ROOM.payloadSize} B + mic 50 packets/s)`,
      ],
      ['producers / consumers / pipes', `${room.producers} / ${int(room.consumers)} / ${room.pipes}`],
      ['consumer budget per worker', int(room.consumerBudget)],
      ...room.workers.map((w): Row => [
        `worker #${w.workerIndex}`,
        `${w.peers} participants, ${int(w.consumers)} consumers (pipes included), CPU ${percent(w.cpuPercent / 100, 1)}`,
      ]),
      [
        'delivered / expected packets',
        `${int(room.received)} / ${int(room.expected)} (loss ${percent(room.lossRatio, 3)})`,
      ],
      [
        'per-participant delivery min / median / mean',
        `${percent(room.delivery.min)} / ${percent(room.delivery.median)} / ${percent(room.delivery.mean)}`,
      ],
      ['participants below 99% / consumers that got nothing', `${room.participantsBelow99} / ${room.silentConsumers}`],
      ['generator CPU', percent(room.generatorCpuPercent / 100, 0)],
    ]
  : [];

const targets: Row[] = [];
if (fanOut) {
  const pass = fanOut.consumers >= 500 && fanOut.lossRatio < 0.01 && fanOut.worstConsumerLoss < 0.01;
  targets.push([
    '(a) one worker forwards ≥ 500 consumers with < 1% loss (every consumer)',
    `${int(fanOut.consumers)} consumers, loss ${percent(fanOut.lossRatio, 3)} (worst ${percent(fanOut.worstConsumerLoss)})`,
    verdict(pass),
  ]);
} else if (only.has('fanout'))
  targets.push(['(a) one worker forwards ≥ 500 consumers with < 1% loss', 'did not run', 'FAIL']);
if (room) {
  const pass =
    room.participants === ROOM.participants &&
    room.participantsBelow99 === 0 &&
    room.silentConsumers === 0 &&
    room.workers.filter((w) => w.peers > 0).length === ROOM.workers;
  targets.push([
    `(b) ${ROOM.participants}-participant meeting over ${ROOM.workers} workers: every participant gets ≥ 99%`,
    `min ${percent(room.delivery.min)}, ${room.silentConsumers} silent consumers`,
    verdict(pass),
  ]);
} else if (only.has('room'))
  targets.push([`(b) ${ROOM.participants}-participant meeting over ${ROOM.workers} workers`, 'did not run', 'FAIL']);
const failedTargets = targets.some((t) => t[2] === 'FAIL');

log('');
if (fanOutRows.length)
  log(
    `(a) fan-out, ${FANOUT.producers} producers × ${videoPps} packets/s × ${FANOUT.payloadSize} B, ${windowMs / 1_000} s window\n${textTable(fanOutHeader, fanOutRows)}\n`,
  );
if (room) log(`(b) meeting\n${textTable(roomHeader, roomRows)}\n`);
log(textTable(['target', 'measured', 'result'], targets));
for (const f of failures) log(`\n${f}`);

// ---- docs/benchmarks-sfu.md ---------------------------------------------------------------
const md = `# SFU benchmarks

Written by \`${machine.command}\` (load-tests/bench/sfu-main.ts, sfu.bench.ts); rerun it to refresh.
Every figure comes from one run on the machine below. RTP is generated and counted by the
benchmark process itself and goes over loopback through real mediasoup workers (PlainTransports;
see \`services/sfu/src/media/testing\`). The Postgres/NATS benchmarks are in [benchmarks.md](benchmarks.md).

## Machine

| | |
|---|---|
| date | ${machine.date} |
| command | \`${machine.command}\` (from the repository root) |
| nproc | ${machine.nproc} |
| RAM | ${machine.ramGiB} GiB |
| CPU | ${machine.cpu} |
| kernel | ${machine.kernel} |
| Node | ${machine.node} |
| mediasoup | ${machine.mediasoup} (worker \`${machine.workerBin.replace(os.homedir(), '~')}\`, log level warn) |
| load average at start | ${machine.loadAverage} |

The worker processes and the benchmark process (generator and receivers, one Node thread) share
these cores.

Reading the figures: loss is end to end, so it also counts packets dropped by this process's own
receive sockets (4 MiB SO_RCVBUF each) when its event loop falls behind; it can only overstate the
SFU's. CPU-ms/s per consumer tends to fall as consumers grow, because the per-producer work
(receiving, RTCP, timers) is shared by more consumers. Worker consumer counts include pipe consumers.

## Targets

${markdownTable(['target', 'measured', 'result'], targets)}

## (a) Fan-out on one worker
${
  fanOutRows.length
    ? `
${FANOUT.producers} VP8-like producers (PlainTransport, comedia), each sending ${videoPps} packets/s of ${FANOUT.payloadSize} B
payload (30 frames/s, a key frame every 2 s, an RTCP sender report every 500 ms). Receiving peers each
have one PlainTransport carrying one consumer per producer and one UDP socket, demultiplexed by SSRC.
Baseline: ${FANOUT.baselineViewers} receiving peers (${FANOUT.producers * FANOUT.baselineViewers} consumers); load: ${FANOUT.viewers} receiving peers (${FANOUT.producers * FANOUT.viewers} consumers);
both in this run, on the same worker, ${windowMs / 1_000} s windows after a 2 s warm-up.

- loss = 1 − received / sent, per consumer against what its producer sent in the window (senders stop
  at the end of the window and the receivers drain for 0.5 s);
- worker CPU = Δ(ru_utime + ru_stime) from \`worker.getResourceUsage()\` over the window;
- CPU-ms/s per consumer = worker CPU milliseconds per second divided by the consumers: the cost of
  one forwarded stream; the last column divides it by the baseline's.

${markdownTable(fanOutHeader, fanOutRows)}
`
    : '\n_Did not run._\n'
}
## (b) One ${ROOM.participants}-participant meeting over ${ROOM.workers} workers
${
  room
    ? `
${ROOM.speakers} participants send a camera (VP8-like, ${videoPps} packets/s × ${ROOM.payloadSize} B) and a mic (Opus-like, 50 packets/s
× 120 B with audio level); every participant consumes every producer but its own on one PlainTransport
(every microphone forwarded: the pool runs with \`audibleSpeakers: 0\`, the workers' worst case)
(one UDP socket per participant). Participants join one at a time and consume right away, as through
signaling, with a consumer budget of ${ROOM.budget} per worker: once the first worker reaches it, the room
places the rest on the second worker and pipes the producers there (\`pipeToRouter\`, once per
producer). Delivery = received / expected over each participant's consumers in a ${windowMs / 1_000} s window.

${markdownTable(roomHeader, roomRows)}
`
    : '\n_Did not run._\n'
}${failures.length ? `\n## Errors\n\n${failures.map((f) => `\`\`\`\n${f}\n\`\`\``).join('\n\n')}\n` : ''}`;
// `npm run bench:join` owns the block between its markers: carry it over unchanged.
const JOIN_START = '<!-- join-latency:start -->';
const JOIN_END = '<!-- join-latency:end -->';
let previous = '';
try {
  previous = readFileSync(DOC, 'utf8');
} catch {
  // first run: nothing to keep
}
const from = previous.indexOf(JOIN_START);
const to = previous.indexOf(JOIN_END);
const joinBlock = from >= 0 && to > from ? `\n${previous.slice(from, to + JOIN_END.length)}\n` : '';
writeFileSync(DOC, `${md.trimEnd()}\n${joinBlock}`);
log(`\nwrote ${DOC}`);
process.exit(failures.length || failedTargets ? 1 : 0);
