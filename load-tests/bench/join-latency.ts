/**
 * `npm run bench:join`: how long a person waits, after pressing Join, to see someone else.
 * Quorum runs as the browser tests run it (`npm start`'s embedded default with the embedded SFU,
 * one mediasoup worker); one headless Chromium opens a page per person (each its own browser
 * context, with Chromium's fake camera and microphone). Each round is a new meeting that the
 * people join one at a time; for every joiner but the first (who has nobody to see) the page
 * records, with `performance.now()`, when `meetings.join` was called and when the first frame of
 * another participant's video was presented (`requestVideoFrameCallback`), through the
 * `window.__quorumMeeting` debug hook. The second joiner connects peer-to-peer; from the third
 * on, through the SFU (the third joiner also moves the first two there).
 *
 * Two configurations, each on a fresh Quorum and Chromium: `full` (microphone and camera, as
 * people join) and `camera-only` (no microphone). All the simulated participants share this
 * machine, and capturing, processing (echo cancellation) and playing audio in ten pages costs
 * Chromium a large share of a small machine's CPU; the second configuration shows the latency
 * without that.
 *
 * Prints p50/p95/max and writes its section of docs/benchmarks-sfu.md between
 * `<!-- join-latency:start -->` and `<!-- join-latency:end -->` (the rest of that file belongs to
 * `npm run bench:sfu`). A measurement, not a test: it exits 0 even when the target is missed.
 *
 * Env (this file is the benchmark's composition root): MEDIASOUP_WORKER_BIN (set by the npm
 * script), BENCH_JOIN_PEOPLE (default 10), BENCH_JOIN_ROUNDS (per configuration, default 3),
 * BENCH_JOIN_CONFIGS (default `full,camera-only`), BENCH_JOIN_VIDEO (fake camera, default
 * 320x180@15), BENCH_JOIN_GAP_MS (pause after a joiner saw someone, before the next one joins;
 * default 3000), BENCH_JOIN_WORKERS (mediasoup workers, default 1).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { call, launchChromium, ROOT, startQuorum } from '../../test/browser/harness';
import { joinTimeline, organization, person, type Person } from '../../test/browser/meeting-helpers';
import { markdownTable, ms, percentile, textTable, verdict, type Row } from './stats';

const DOC = `${ROOT}/docs/benchmarks-sfu.md`;
const START = '<!-- join-latency:start -->';
const END = '<!-- join-latency:end -->';
const TARGET_P95_MS = 1_000;
const DEADLINE_MS = 20 * 60_000;
const SETTLED_WINDOW_MS = 10_000;

const CONFIGS = {
  full: { title: 'microphone and camera', microphone: true },
  'camera-only': { title: 'camera only (no microphone)', microphone: false },
} as const;
type ConfigName = keyof typeof CONFIGS;

const peopleCount = Number(process.env.BENCH_JOIN_PEOPLE ?? 10);
const rounds = Number(process.env.BENCH_JOIN_ROUNDS ?? 3);
const workers = process.env.BENCH_JOIN_WORKERS ?? '1';
const gapMs = Number(process.env.BENCH_JOIN_GAP_MS ?? 3_000);
const configNames = (process.env.BENCH_JOIN_CONFIGS ?? 'full,camera-only')
  .split(',')
  .map((c) => c.trim()) as ConfigName[];
const videoMatch = /^(\d+)x(\d+)@(\d+)$/.exec(process.env.BENCH_JOIN_VIDEO ?? '320x180@15');
if (!videoMatch || !(peopleCount >= 2) || !(rounds >= 1) || !configNames.every((c) => c in CONFIGS)) {
  throw new Error(
    `BENCH_JOIN_PEOPLE ≥ 2, BENCH_JOIN_ROUNDS ≥ 1, BENCH_JOIN_VIDEO like 320x180@15 and BENCH_JOIN_CONFIGS from ${Object.keys(CONFIGS).join(', ')}, please`,
  );
}
const video = { width: Number(videoMatch[1]), height: Number(videoMatch[2]), frameRate: Number(videoMatch[3]) };
const log = (line: string) => process.stdout.write(`${line}\n`);
const pct = (share: number) => (Number.isNaN(share) ? 'n/a' : `${Math.round(share * 100)}%`);

const watchdog = setTimeout(() => {
  log(`bench:join exceeded ${DEADLINE_MS / 60_000} min; giving up`);
  process.exit(1);
}, DEADLINE_MS);
watchdog.unref();

/** In the page before its scripts: no microphone, as on a machine without one (the room still joins). */
const NO_MICROPHONE = `(() => {
  const devices = navigator.mediaDevices;
  const userMedia = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (c) => (c && c.audio && !c.video ? Promise.reject(new DOMException('no microphone in this run', 'NotFoundError')) : userMedia(c));
})();`;

interface Sample {
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

interface Cpu {
  wallSeconds: number;
  chromium: number;
  quorum: number;
  mediasoup: number;
}

interface ConfigResult {
  name: ConfigName;
  samples: Sample[];
  failures: string[];
  cpu: Cpu | undefined;
  /** Chromium's CPU (cores) with everyone in and settled, after the last joiner of the last round. */
  settledChromium: number | undefined;
  loadBefore: string;
  chromium: string;
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/**
 * CPU seconds used so far by each process tree (Linux /proc): Chromium (the browser and its
 * renderer, GPU and utility processes), the Quorum process, and its mediasoup worker. Processes
 * that already exited are not counted.
 */
function cpuSeconds(quorumPid: number | undefined): Omit<Cpu, 'wallSeconds'> {
  const out = { chromium: 0, quorum: 0, mediasoup: 0 };
  if (!existsSync('/proc/self/stat')) return out;
  const procs = new Map<number, { ppid: number; comm: string; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we listed /proc
    }
    // "pid (comm) state ppid … utime stime …": comm may hold spaces, so split after its ')'.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    procs.set(Number(entry), {
      ppid: Number(fields[1]),
      comm: stat.slice(stat.indexOf('(') + 1, close),
      ticks: Number(fields[11]) + Number(fields[12]),
    });
  }
  const ticksPerSecond = 100; // USER_HZ on Linux
  for (const [pid, p] of procs) {
    // Quorum and its worker descend from the Quorum process; Chromium's processes from this one.
    let chromium = false;
    for (let at: number | undefined = pid, hops = 0; at && hops < 64; at = procs.get(at)?.ppid, hops++) {
      if (at === quorumPid) {
        out[p.comm.startsWith('mediasoup') ? 'mediasoup' : 'quorum'] += p.ticks / ticksPerSecond;
        break;
      }
      chromium ||= /chrom/i.test(procs.get(at)?.comm ?? '');
      if (at === process.pid) {
        if (chromium) out.chromium += p.ticks / ticksPerSecond;
        break;
      }
    }
  }
  return out;
}

/** Busy and total jiffies of the whole machine (the first line of /proc/stat). */
function machineJiffies(): { busy: number; total: number } | undefined {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    const v = fields.map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - v[3]! - v[4]!, total }; // idle and iowait are not busy
  } catch {
    return undefined; // not Linux
  }
}

/**
 * How busy the machine is, sampled every 100 ms: `saturatedShare(from, to)` answers the share
 * of that span (this process's `performance.now()` ms) in which the CPUs were at least 95% busy.
 */
function machineSampler() {
  const samples: Array<{ at: number; busy: number }> = [];
  let last = machineJiffies();
  const timer = setInterval(() => {
    const now = machineJiffies();
    if (now && last && now.total > last.total)
      samples.push({ at: performance.now(), busy: (now.busy - last.busy) / (now.total - last.total) });
    last = now;
  }, 100);
  return {
    saturatedShare(from: number, to: number): number {
      // A sample covers the 100 ms before its time stamp.
      const inside = samples.filter((x) => x.at > from && x.at - 100 < to);
      return inside.length ? inside.filter((x) => x.busy >= 0.95).length / inside.length : Number.NaN;
    },
    stop: () => clearInterval(timer),
  };
}

function cpuModel(): string {
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m?.[1]?.trim() ?? os.cpus()[0]?.model ?? '?';
  } catch {
    return os.cpus()[0]?.model ?? '?'; // no /proc/cpuinfo (not Linux): Node's own view
  }
}

/** Starts on a quiet machine: waits (up to 3 min) for the 1-minute load average to drop below half the cores. */
async function quiet(): Promise<void> {
  const limit = os.availableParallelism() / 2;
  const deadline = Date.now() + 180_000;
  if (os.loadavg()[0]! >= limit)
    log(`waiting for the load average (${os.loadavg()[0]!.toFixed(2)}) to drop below ${limit}…`);
  while (os.loadavg()[0]! >= limit && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5_000));
}

async function joinAndTime(
  p: Person,
  url: string,
  round: number,
  joiner: number,
  machine: ReturnType<typeof machineSampler>,
): Promise<Sample | undefined> {
  await p.page.goto(url);
  await p.page.getByLabel('Your camera preview').waitFor({ timeout: 20_000 });
  const clicked = performance.now();
  await p.page.getByRole('button', { name: 'Join meeting' }).click();
  await p.page.locator('[data-testid="meeting-room"][data-phase="live"]').waitFor({ timeout: 30_000 });
  if (joiner === 1) return undefined;
  await p.page.waitForFunction(
    () =>
      (
        globalThis as unknown as { __quorumMeeting?: { timeline(): { firstRemoteFrame?: number } } }
      ).__quorumMeeting?.timeline().firstRemoteFrame !== undefined,
    undefined,
    { timeout: 30_000, polling: 20 },
  );
  const t = await joinTimeline(p.page);
  const at = (v: number | undefined) => (v ?? Number.NaN) - (t.joinRequested ?? Number.NaN);
  return {
    round,
    joiner,
    mode: t.firstRemoteFrameMode ?? '?',
    ticketMs: at(t.ticket),
    signalingMs: at(t.signalingJoined),
    deviceMs: at(t.deviceLoaded),
    consumeAnsweredMs: at(t.videoConsumeAnswered),
    consumerCreatedMs: at(t.videoConsumerCreated),
    resumedMs: at(t.videoResumed),
    mediaConnectedMs: at(t.mediaConnected),
    videoTrackMs: at(t.firstRemoteVideoTrack),
    firstFrameMs: at(t.firstRemoteFrame),
    saturated: machine.saturatedShare(clicked, clicked + at(t.firstRemoteFrame)),
  };
}

async function runConfig(name: ConfigName): Promise<ConfigResult> {
  const config = CONFIGS[name];
  await quiet();
  const result: ConfigResult = {
    name,
    samples: [],
    failures: [],
    cpu: undefined,
    settledChromium: undefined,
    loadBefore: loadAverage(),
    chromium: '?',
  };
  const machine = machineSampler();
  log(`\n[${name}] ${config.title}: ${peopleCount} people, ${rounds} rounds; load average ${result.loadBefore}`);
  const quorum = await startQuorum({ env: { SFU_WORKERS: workers } });
  const browser = await launchChromium();
  result.chromium = browser.version();
  try {
    const baseUrl = quorum.baseUrl;
    const host = await person(browser, baseUrl, 'Host One', video);
    const guests: Person[] = [];
    for (let i = 2; i <= peopleCount; i++) guests.push(await person(browser, baseUrl, `Guest ${i}`, video));
    const everyone = [host, ...guests];
    if (!config.microphone) for (const p of everyone) await p.context.addInitScript({ content: NO_MICROPHONE });
    const orgId = await organization(baseUrl, host, guests, 'Bench Co');
    const cpuBefore = cpuSeconds(quorum.pid);
    const wallBefore = performance.now();

    for (let round = 1; round <= rounds; round++) {
      const { sessionId } = await call<{ sessionId: string }>(
        baseUrl,
        'mutation',
        'meetings.create',
        { orgId, title: `Join latency ${round}` },
        host.token,
      );
      const url = `/orgs/${orgId}/meetings/${sessionId}`;
      for (const [index, p] of everyone.entries()) {
        const joiner = index + 1;
        try {
          const sample = await joinAndTime(p, url, round, joiner, machine);
          if (sample) {
            result.samples.push(sample);
            log(
              `[${name}] round ${round} joiner ${String(joiner).padStart(2)} (${sample.mode}): meetings.join ${ms(sample.ticketMs)}, signaling ${ms(sample.signalingMs)}, device ${ms(sample.deviceMs)}, consume ${ms(sample.consumeAnsweredMs)}, consumer ${ms(sample.consumerCreatedMs)}, resumed ${ms(sample.resumedMs)}, media connected ${ms(sample.mediaConnectedMs)}, first video track ${ms(sample.videoTrackMs)}, first remote frame ${ms(sample.firstFrameMs)}; CPUs saturated ${pct(sample.saturated)} of it`,
            );
          }
        } catch (err) {
          const message = `round ${round} joiner ${joiner}: ${(err as Error).message.split('\n')[0]}`;
          result.failures.push(message);
          log(`[${name}] ${message} (FAILED)`);
        }
        // Let the room take in the newcomer (the others consume their media) before the next one.
        await new Promise((r) => setTimeout(r, gapMs));
      }
      if (round === rounds) {
        const after = cpuSeconds(quorum.pid);
        result.cpu = {
          wallSeconds: (performance.now() - wallBefore) / 1_000,
          chromium: after.chromium - cpuBefore.chromium,
          quorum: after.quorum - cpuBefore.quorum,
          mediasoup: after.mediasoup - cpuBefore.mediasoup,
        };
        // Everyone is in: what the settled room costs Chromium, over 10 s.
        const settledFrom = { cpu: cpuSeconds(quorum.pid).chromium, at: performance.now() };
        await new Promise((r) => setTimeout(r, SETTLED_WINDOW_MS));
        result.settledChromium =
          (cpuSeconds(quorum.pid).chromium - settledFrom.cpu) / ((performance.now() - settledFrom.at) / 1_000);
      }
      await call(baseUrl, 'mutation', 'meetings.end', { orgId, sessionId }, host.token);
      // Every page shows the end; one that does not is moved away, so the next round starts clean anyway.
      await Promise.all(
        everyone.map((p) =>
          p.page
            .getByTestId('meeting-over')
            .waitFor({ timeout: 15_000 })
            .catch(() => p.page.goto('about:blank')),
        ),
      );
    }
  } catch (err) {
    result.failures.push(`the run failed: ${(err as Error).stack ?? String(err)}`);
  } finally {
    machine.stop();
    await browser.close();
    await quorum.stop();
  }
  return result;
}

// ---- run ------------------------------------------------------------------------------------
const machine = {
  date: new Date().toISOString(),
  nproc: os.availableParallelism(),
  cpu: cpuModel(),
  node: process.version,
};
log(`Quorum join latency — ${machine.date}`);
log(
  `${machine.nproc} cores (${machine.cpu}), ${machine.node}; ${gapMs} ms between joiners, fake camera ${video.width}×${video.height} at ${video.frameRate} fps, ${workers} mediasoup worker(s)`,
);
const results: ConfigResult[] = [];
for (const name of configNames) results.push(await runConfig(name));

// ---- figures --------------------------------------------------------------------------------
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
  const pass = r.failures.length === 0 && r.samples.length === expected && s.p95 < TARGET_P95_MS;
  return [
    `${CONFIGS[r.name].title}: p95 join → first remote frame < ${TARGET_P95_MS} ms`,
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
  `\nThe settled room (everyone in, ${SETTLED_WINDOW_MS / 1000} s after the last join):\n${textTable(settledHeader, settledRows)}`,
);
log(
  `\nHow busy the machine was while people joined (sampled every 100 ms; saturated = the CPUs at least 95% busy):\n${textTable(saturationHeader, saturationRows)}`,
);
log('');
log(textTable(['target', 'measured', 'result'], targets));
for (const f of failures) log(`\n${f}`);

// ---- docs/benchmarks-sfu.md (only between our markers) --------------------------------------
const section = `${START}
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

What the settled room costs Chromium (everyone in; ${SETTLED_WINDOW_MS / 1000} s, after the last join of the last round):

${markdownTable(settledHeader, settledRows)}

How busy the machine was while people joined: the whole machine's CPU time from \`/proc/stat\`,
sampled every 100 ms; a sample is saturated when the CPUs were at least 95% busy, and each join
counts the share of its samples (Join pressed to first frame) that were:

${markdownTable(saturationHeader, saturationRows)}

First remote frame per joiner, configuration and round:

${markdownTable(byJoinerHeader, byJoinerRows)}
${failures.length ? `\nFailures:\n\n${failures.map((f) => `- ${f.split('\n')[0]}`).join('\n')}\n` : ''}${END}`;

const current = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# SFU benchmarks\n';
const from = current.indexOf(START);
const until = current.indexOf(END);
const next =
  from >= 0 && until > from
    ? `${current.slice(0, from)}${section}${current.slice(until + END.length)}`
    : `${current.trimEnd()}\n\n${section}\n`;
writeFileSync(DOC, next);
log(`\nwrote the join-latency section of ${DOC.replace(`${ROOT}/`, '')}`);
