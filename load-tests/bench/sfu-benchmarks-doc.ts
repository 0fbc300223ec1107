/**
 * The figures of `npm run bench:sfu`: its tables, as printed to the console and as
 * docs/benchmarks-sfu.md. The file's join-latency block belongs to `npm run bench:join` and is
 * carried over.
 */
import os from 'node:os';
import { JOIN_LATENCY_BLOCK, machineTable, markedBlock, type MachineFacts } from './bench-doc';
import type { FanOutResult, RoomBenchResult } from './sfu.bench';
import { int, markdownTable, textTable, verdict, type Row } from './stats';

/** How the run was set up: the loads, as the tables and the doc describe them. */
export interface SfuBenchSetup {
  fanOut: { producers: number; baselineViewers: number; viewers: number; payloadSize: number };
  room: { participants: number; speakers: number; workers: number; budget: number; payloadSize: number };
  /** Packets per second per video producer. */
  videoPps: number;
  windowMs: number;
}

/** What each part returned; a part that did not run or failed is missing. */
export interface SfuBenchResults {
  baseline?: FanOutResult | undefined;
  fanOut?: FanOutResult | undefined;
  room?: RoomBenchResult | undefined;
}

export interface SfuBenchMachine extends MachineFacts {
  mediasoup: string;
  workerBin: string;
}

interface Table {
  header: Row;
  rows: Row[];
}

export interface SfuBenchTables {
  fanOut: Table;
  room: Table;
  targets: Row[];
}

const percent = (ratio: number, digits = 2) => (Number.isFinite(ratio) ? `${(ratio * 100).toFixed(digits)}%` : 'n/a');

/** `only`: the parts asked for; one of them without a result fails its target. */
export function sfuBenchTables(
  setup: SfuBenchSetup,
  { baseline, fanOut, room }: SfuBenchResults,
  only: ReadonlySet<string>,
): SfuBenchTables {
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
          `${room.participants} / ${room.speakers} (camera ${setup.videoPps} packets/s × ${setup.room.payloadSize} B + mic 50 packets/s)`,
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
        [
          'participants below 99% / consumers that got nothing',
          `${room.participantsBelow99} / ${room.silentConsumers}`,
        ],
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
      room.participants === setup.room.participants &&
      room.participantsBelow99 === 0 &&
      room.silentConsumers === 0 &&
      room.workers.filter((w) => w.peers > 0).length === setup.room.workers;
    targets.push([
      `(b) ${setup.room.participants}-participant meeting over ${setup.room.workers} workers: every participant gets ≥ 99%`,
      `min ${percent(room.delivery.min)}, ${room.silentConsumers} silent consumers`,
      verdict(pass),
    ]);
  } else if (only.has('room'))
    targets.push([
      `(b) ${setup.room.participants}-participant meeting over ${setup.room.workers} workers`,
      'did not run',
      'FAIL',
    ]);
  return {
    fanOut: { header: fanOutHeader, rows: fanOutRows },
    room: { header: roomHeader, rows: roomRows },
    targets,
  };
}

export function printSfuBenchTables(
  setup: SfuBenchSetup,
  { room }: SfuBenchResults,
  tables: SfuBenchTables,
  log: (line: string) => void,
): void {
  log('');
  if (tables.fanOut.rows.length)
    log(
      `(a) fan-out, ${setup.fanOut.producers} producers × ${setup.videoPps} packets/s × ${setup.fanOut.payloadSize} B, ${setup.windowMs / 1_000} s window\n${textTable(tables.fanOut.header, tables.fanOut.rows)}\n`,
    );
  if (room) log(`(b) meeting\n${textTable(tables.room.header, tables.room.rows)}\n`);
  log(textTable(['target', 'measured', 'result'], tables.targets));
}

/**
 * docs/benchmarks-sfu.md for this run; `previous` is the file being replaced (its join-latency
 * block is kept).
 */
export function renderSfuBenchmarksDoc(
  machine: SfuBenchMachine,
  setup: SfuBenchSetup,
  { room }: SfuBenchResults,
  tables: SfuBenchTables,
  failures: readonly string[],
  previous: string | undefined,
): string {
  const md = `# SFU benchmarks

Written by \`${machine.command}\` (load-tests/bench/sfu-main.ts, sfu.bench.ts); rerun it to refresh.
Every figure comes from one run on the machine below. RTP is generated and counted by the
benchmark process itself and goes over loopback through real mediasoup workers (PlainTransports;
see \`services/sfu/src/media/testing\`). The Postgres/NATS benchmarks are in [benchmarks.md](benchmarks.md).

## Machine

${machineTable(machine, [
  ['mediasoup', `${machine.mediasoup} (worker \`${machine.workerBin.replace(os.homedir(), '~')}\`, log level warn)`],
])}

The worker processes and the benchmark process (generator and receivers, one Node thread) share
these cores.

Reading the figures: loss is end to end, so it also counts packets dropped by this process's own
receive sockets (4 MiB SO_RCVBUF each) when its event loop falls behind; it can only overstate the
SFU's. CPU-ms/s per consumer tends to fall as consumers grow, because the per-producer work
(receiving, RTCP, timers) is shared by more consumers. Worker consumer counts include pipe consumers.

## Targets

${markdownTable(['target', 'measured', 'result'], tables.targets)}

## (a) Fan-out on one worker
${
  tables.fanOut.rows.length
    ? `
${setup.fanOut.producers} VP8-like producers (PlainTransport, comedia), each sending ${setup.videoPps} packets/s of ${setup.fanOut.payloadSize} B
payload (30 frames/s, a key frame every 2 s, an RTCP sender report every 500 ms). Receiving peers each
have one PlainTransport carrying one consumer per producer and one UDP socket, demultiplexed by SSRC.
Baseline: ${setup.fanOut.baselineViewers} receiving peers (${setup.fanOut.producers * setup.fanOut.baselineViewers} consumers); load: ${setup.fanOut.viewers} receiving peers (${setup.fanOut.producers * setup.fanOut.viewers} consumers);
both in this run, on the same worker, ${setup.windowMs / 1_000} s windows after a 2 s warm-up.

- loss = 1 − received / sent, per consumer against what its producer sent in the window (senders stop
  at the end of the window and the receivers drain for 0.5 s);
- worker CPU = Δ(ru_utime + ru_stime) from \`worker.getResourceUsage()\` over the window;
- CPU-ms/s per consumer = worker CPU milliseconds per second divided by the consumers: the cost of
  one forwarded stream; the last column divides it by the baseline's.

${markdownTable(tables.fanOut.header, tables.fanOut.rows)}
`
    : '\n_Did not run._\n'
}
## (b) One ${setup.room.participants}-participant meeting over ${setup.room.workers} workers
${
  room
    ? `
${setup.room.speakers} participants send a camera (VP8-like, ${setup.videoPps} packets/s × ${setup.room.payloadSize} B) and a mic (Opus-like, 50 packets/s
× 120 B with audio level); every participant consumes every producer but its own on one PlainTransport
(every microphone forwarded: the pool runs with \`audibleSpeakers: 0\`, the workers' worst case)
(one UDP socket per participant). Participants join one at a time and consume right away, as through
signaling, with a consumer budget of ${setup.room.budget} per worker: once the first worker reaches it, the room
places the rest on the second worker and pipes the producers there (\`pipeToRouter\`, once per
producer). Delivery = received / expected over each participant's consumers in a ${setup.windowMs / 1_000} s window.

${markdownTable(tables.room.header, tables.room.rows)}
`
    : '\n_Did not run._\n'
}${failures.length ? `\n## Errors\n\n${failures.map((f) => `\`\`\`\n${f}\n\`\`\``).join('\n\n')}\n` : ''}`;
  const joinBlock = markedBlock(previous, JOIN_LATENCY_BLOCK);
  return `${md.trimEnd()}\n${joinBlock ? `\n${joinBlock}\n` : ''}`;
}
