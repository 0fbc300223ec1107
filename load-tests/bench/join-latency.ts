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
import os from 'node:os';
import { call, launchChromium, startQuorum } from '../../test/browser/harness';
import { joinTimeline, organization, person, type Person } from '../../test/browser/meeting-helpers';
import { cpuModel, loadAverage } from './bench-doc';
import { cpuSeconds, machineSampler, quiet } from './join-latency-machine';
import {
  CONFIGS,
  pct,
  reportJoinLatency,
  type ConfigName,
  type ConfigResult,
  type Sample,
} from './join-latency-report';
import { ms } from './stats';

const TARGET_P95_MS = 1_000;
const DEADLINE_MS = 20 * 60_000;
const SETTLED_WINDOW_MS = 10_000;

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
  await quiet(log);
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

reportJoinLatency(
  {
    peopleCount,
    rounds,
    workers,
    gapMs,
    video,
    machine,
    targetP95Ms: TARGET_P95_MS,
    settledWindowMs: SETTLED_WINDOW_MS,
  },
  results,
  log,
);
