/**
 * The join-latency benchmark's figures: tables printed to the console, and its section of
 * docs/benchmarks-sfu.md (only between its markers; the rest belongs to `npm run bench:sfu`).
 */
import { writeFileSync } from 'node:fs';
import { ROOT } from '../../test/browser/harness';
import { JOIN_LATENCY_BLOCK, readDoc, replaceMarkedBlock } from './bench-doc';
import type { Cpu } from './join-latency-machine';
import { markdownTable, ms, percentile, textTable, verdict, type Row } from './stats';

const DOC = `${ROOT}/docs/benchmarks-sfu.md`;

export const CONFIGS = {
  full: { title: 'microphone and camera', microphone: true },
  'camera-only': { title: 'camera only (no microphone)', microphone: false },
} as const;
export type ConfigName = keyof typeof CONFIGS;

export interface Sample {
  round: number;
  /** 2 = the second person in, … */
  joiner: number;
  mode: string;
  /** `meetings.join` answered. */
  ticketMs: number;
  /** The SFU's signaling `join` answered. */
  signalingMs: number;
  /** Through the SFU: the mediasoup Device loaded. */
  deviceMs: number;
  /** Through the SFU: the first video `consume` answered. */
  consumeAnsweredMs: number;
  /** Through the SFU: the first video consumer created in the page. */
  consumerCreatedMs: number;
  /** Through the SFU: the first video consumer resumed. */
  resumedMs: number;
  /** Through the SFU: the receive transport connected. */
  mediaConnectedMs: number;
  /** Through the SFU: the first remote video track handed to the page. */
  videoTrackMs: number;
  /** First frame of someone else's video presented. */
  firstFrameMs: number;
  /** Share of the join (click to first frame) during which the machine's CPUs were all busy (≥ 95%). */
  saturated: number;
}

export interface ConfigResult {
  name: ConfigName;
  samples: Sample[];
  failures: string[];
  cpu: Cpu | undefined;
  /** Chromium's CPU (cores) with everyone in and settled, after the last joiner of the last round. */
  settledChromium: number | undefined;
  loadBefore: string;
  chromium: string;
}

/** How the run was set up, as the report describes it. */
export interface JoinLatencyRun {
  peopleCount: number;
  rounds: number;
  workers: string;
  gapMs: number;
  video: { width: number; height: number; frameRate: number };
  machine: { date: string; nproc: number; cpu: string; node: string };
  targetP95Ms: number;
  settledWindowMs: number;
}

export const pct = (share: number) => (Number.isNaN(share) ? 'n/a' : `${Math.round(share * 100)}%`);

/** Prints the figures of `results` and writes them into docs/benchmarks-sfu.md. */
export function reportJoinLatency(run: JoinLatencyRun, results: ConfigResult[], log: (line: string) => void): void {
  const { peopleCount, rounds, workers, gapMs, video, machine } = run;
  function stats(list: Sample[], pick: (s: Sample) => number) {
    const sorted = list
      .map(pick)
      .filter((v) => !Number.isNaN(v))
      .sort((a, b) => a - b);
    return {
      n: sorted.length,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      max: sorted.at(-1) ?? Number.NaN,
    };
  }
  const expected = rounds * (peopleCount - 1);
  const targets: Row[] = results.map((r) => {
    const s = stats(r.samples, (x) => x.firstFrameMs);
    const pass = r.failures.length === 0 && r.samples.length === expected && s.p95 < run.targetP95Ms;
    return [
      `${CONFIGS[r.name].title}: p95 join → first remote frame < ${run.targetP95Ms} ms`,
      `${ms(s.p95)} over ${r.samples.length} of ${expected} joins`,
      verdict(pass),
    ];
  });
  const latencyHeader: Row = ['configuration', 'joiners', 'joins', 'p50', 'p95', 'max'];
  const latencyRows: Row[] = results.flatMap((r) =>
    (
      [
        ['all', r.samples],
        ['2nd (peer-to-peer)', r.samples.filter((s) => s.joiner === 2)],
        [`3rd–${peopleCount}th (SFU)`, r.samples.filter((s) => s.joiner >= 3)],
      ] as const
    ).map(([group, list]): Row => {
      const s = stats([...list], (x) => x.firstFrameMs);
      return [r.name, group, String(s.n), ms(s.p50), ms(s.p95), ms(s.max)];
    }),
  );
  const phaseHeader: Row = ['configuration', 'from calling `meetings.join` to', 'p50', 'p95', 'max'];
  const phaseRows: Row[] = results.flatMap((r) =>
    (
      [
        ['`meetings.join` answered', (s: Sample) => s.ticketMs],
        ['signaling `join` answered', (s: Sample) => s.signalingMs],
        ['mediasoup Device loaded (3rd joiner on)', (s: Sample) => s.deviceMs],
        ['first video `consume` answered (3rd joiner on)', (s: Sample) => s.consumeAnsweredMs],
        ['first video consumer created in the page (3rd joiner on)', (s: Sample) => s.consumerCreatedMs],
        ['first video consumer resumed (3rd joiner on)', (s: Sample) => s.resumedMs],
        ['SFU receive transport connected (3rd joiner on)', (s: Sample) => s.mediaConnectedMs],
        ['first remote video track (3rd joiner on)', (s: Sample) => s.videoTrackMs],
        ['first remote frame presented', (s: Sample) => s.firstFrameMs],
      ] as const
    ).map(([phase, pick]): Row => {
      const s = stats(r.samples, pick);
      return [r.name, phase, ms(s.p50), ms(s.p95), ms(s.max)];
    }),
  );
  const cores = (seconds: number, cpu: Cpu) => `${(seconds / cpu.wallSeconds).toFixed(2)}`;
  const cpuHeader: Row = [
    'configuration',
    'seconds of joining',
    'Chromium (all pages and its own processes)',
    'Quorum (gateway, signaling, PGlite)',
    'mediasoup worker',
  ];
  const cpuRows: Row[] = results.flatMap((r) =>
    r.cpu
      ? [
          [
            r.name,
            r.cpu.wallSeconds.toFixed(0),
            cores(r.cpu.chromium, r.cpu),
            cores(r.cpu.quorum, r.cpu),
            cores(r.cpu.mediasoup, r.cpu),
          ],
        ]
      : [],
  );
  const settledRows: Row[] = results.flatMap((r) =>
    r.settledChromium === undefined
      ? []
      : [[r.name, String(peopleCount), r.settledChromium.toFixed(2), (r.settledChromium / peopleCount).toFixed(3)]],
  );
  const settledHeader: Row = ['configuration', 'people in the room', 'Chromium, cores', 'per person, cores'];
  /** Joiners in bands (3rd–5th, 6th–8th, 9th on): how long they waited, and how often the CPUs were all busy meanwhile. */
  const bands = [
    [3, 5],
    [6, 8],
    [9, peopleCount],
  ].filter(([from, to]) => from! <= to! && from! <= peopleCount) as Array<[number, number]>;
  const saturationHeader: Row = [
    'configuration',
    'joiners',
    'joins',
    'p50 first frame',
    'p95 first frame',
    'CPUs saturated, mean share of the join',
  ];
  const saturationRows: Row[] = results.flatMap((r) =>
    bands.map(([from, to]): Row => {
      const list = r.samples.filter((x) => x.joiner >= from && x.joiner <= to);
      const s = stats(list, (x) => x.firstFrameMs);
      const shares = list.map((x) => x.saturated).filter((v) => !Number.isNaN(v));
      const mean = shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : Number.NaN;
      return [r.name, `${from}th–${to}th`.replace(/^3th/, '3rd'), String(s.n), ms(s.p50), ms(s.p95), pct(mean)];
    }),
  );
  const byJoinerHeader: Row = [
    'joiner',
    'mode',
    ...results.flatMap((r) => Array.from({ length: rounds }, (_, i) => `${r.name} ${i + 1}`)),
  ];
  const byJoinerRows: Row[] = [];
  for (let joiner = 2; joiner <= peopleCount; joiner++) {
    const mode = results.flatMap((r) => r.samples).find((s) => s.joiner === joiner)?.mode ?? '—';
    byJoinerRows.push([
      String(joiner),
      mode,
      ...results.flatMap((r) =>
        Array.from({ length: rounds }, (_, i) =>
          ms(r.samples.find((s) => s.joiner === joiner && s.round === i + 1)?.firstFrameMs ?? Number.NaN),
        ),
      ),
    ]);
  }
  const failures = results.flatMap((r) => r.failures.map((f) => `${r.name}: ${f}`));

  log('');
  log(textTable(latencyHeader, latencyRows));
  log('');
  log(textTable(phaseHeader, phaseRows));
  log(`\nCPU, average cores over the joining (of ${machine.nproc}):\n${textTable(cpuHeader, cpuRows)}`);
  log(
    `\nThe settled room (everyone in, ${run.settledWindowMs / 1000} s after the last join):\n${textTable(settledHeader, settledRows)}`,
  );
  log(
    `\nHow busy the machine was while people joined (sampled every 100 ms; saturated = the CPUs at least 95% busy):\n${textTable(saturationHeader, saturationRows)}`,
  );
  log('');
  log(textTable(['target', 'measured', 'result'], targets));
  for (const f of failures) log(`\n${f}`);

  const section = `${JOIN_LATENCY_BLOCK.start}
## Join latency in Chromium (\`npm run bench:join\`)

Written by \`npm run bench:join\` (load-tests/bench/join-latency.ts); rerun it to refresh. One run on
${machine.date}: ${machine.nproc} cores (${machine.cpu}), Node ${machine.node}, Chromium ${results[0]?.chromium ?? '?'};
load average at the start of each configuration: ${results.map((r) => `${r.name} ${r.loadBefore}`).join('; ')}.

Quorum as the browser tests start it (the embedded default with the embedded SFU, ${workers} mediasoup
worker) and one headless Chromium with a page per person: ${peopleCount} people, each their own browser context,
with Chromium's fake camera (capped at ${video.width}×${video.height}, ${video.frameRate} fps) and fake microphone. Per configuration
a fresh Quorum and Chromium and ${rounds} rounds, each a new meeting that the ${peopleCount} join one at a time,
${gapMs / 1000} s after the previous joiner saw someone. A join's latency runs from the page calling
\`meetings.join\` (\`performance.now()\` when Join is pressed, after the device check) to the first
frame of another participant's video presented in that page (\`requestVideoFrameCallback\`). The
first person in a meeting has nobody to see and is not counted; the second connects peer-to-peer;
from the third on through the SFU (the third also moves the first two there).

Configurations: **full**, each page with microphone and camera, as people join; **camera-only**,
no microphone. Every simulated participant runs on this one machine: each page encodes its camera
in the simulcast layers someone watches (of three), decodes the others' (a quarter-resolution layer at half the frame rate
once five or more are shown) and, in **full**, captures and processes its microphone and plays the
others' (the SFU forwards the three heard most recently once more than three are unmuted). Chromium's CPU is the
figure to read beside the latency: when it nears the ${machine.nproc} cores, every step of a join (the
page's own work, the HTTP and WebSocket round trips, Quorum's event loop) waits for CPU, and the
latency measures the machine as much as Quorum.

${markdownTable(['target', 'measured', 'result'], targets)}

${markdownTable(latencyHeader, latencyRows)}

${markdownTable(phaseHeader, phaseRows)}

CPU, in average cores over the joining (from \`/proc\`, of ${machine.nproc}):

${markdownTable(cpuHeader, cpuRows)}

What the settled room costs Chromium (everyone in; ${run.settledWindowMs / 1000} s, after the last join of the last round):

${markdownTable(settledHeader, settledRows)}

How busy the machine was while people joined: the whole machine's CPU time from \`/proc/stat\`,
sampled every 100 ms; a sample is saturated when the CPUs were at least 95% busy, and each join
counts the share of its samples (Join pressed to first frame) that were:

${markdownTable(saturationHeader, saturationRows)}

First remote frame per joiner, configuration and round:

${markdownTable(byJoinerHeader, byJoinerRows)}
${failures.length ? `\nFailures:\n\n${failures.map((f) => `- ${f.split('\n')[0]}`).join('\n')}\n` : ''}${JOIN_LATENCY_BLOCK.end}`;

  writeFileSync(DOC, replaceMarkedBlock(readDoc(DOC) ?? '# SFU benchmarks\n', JOIN_LATENCY_BLOCK, section));
  log(`\nwrote the join-latency section of ${DOC.replace(`${ROOT}/`, '')}`);
}
