/** Part (g)'s rows, targets and section of docs/benchmarks.md (the `/v1` event stream fan-out). */
import type { SseBenchResult } from './sse.bench';
import { int, markdownTable, ms, type Row } from './stats';

const mib = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} MiB` : 'n/a');
const lat = (s: SseBenchResult['latency']) => `${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)}  (${int(s.count)} samples)`;

export const SSE_HEADER: Row = ['measure', 'value'];

export function sseRows(sse: SseBenchResult): Row[] {
  return [
    ['streams open (one organization, one admin API key)', `${int(sse.opened)} of ${int(sse.streams)}`],
    [
      'events appended (session.scheduled, each on its own stream, straight to the store)',
      `${int(sse.appends)} over ${sse.durationMs / 1000} s, the last returned after ${(sse.answeredMs / 1000).toFixed(1)} s (${sse.achievedRate.toFixed(1)}/s of ${sse.targetRate}/s), ${sse.appendErrors} errors`,
    ],
    ['public events in the window (the log)', int(sse.events)],
    [
      'streams with every event, in order, once',
      `${int(sse.complete)} of ${int(sse.streams)} (${sse.outOfOrder} out of order, ${sse.ended} ended)`,
    ],
    ['event → received p50 / p99 / max, all streams', lat(sse.latency)],
    ['baseline: the same with one stream open', lat(sse.baseline)],
    ['append returned p50 / p99 / max', lat(sse.appendLatency)],
    [
      "Quorum's live heap: streams open / ⅓ in / after the drain",
      `${mib(sse.heap.openMiB)} / ${mib(sse.heap.midMiB)} / ${mib(sse.heap.endMiB)}`,
    ],
    [
      "Quorum's RSS: streams open / ⅓ in / after the drain",
      `${mib(sse.rss.openMiB)} / ${mib(sse.rss.midMiB)} / ${mib(sse.rss.endMiB)}`,
    ],
    ["Quorum's CPU during the window and drain", `${sse.childCpuPercent.toFixed(0)}% of one core`],
  ];
}

export function sseTargets(sse: SseBenchResult | undefined, asked: boolean): Row[] {
  if (!sse) return asked ? [['(g) SSE fan-out', 'did not run', 'FAIL']] : [];
  return [
    [
      `(g) ${int(sse.streams)} streams each get every event, in order, once`,
      `${int(sse.complete)} of ${int(sse.streams)} over ${int(sse.events)} events`,
      sse.target.deliveryPass ? 'PASS' : 'FAIL',
    ],
    [
      `(g) live heap grows < ${sse.target.maxHeapGrowthMiB} MiB, and not with events`,
      `+${(sse.heap.endMiB - sse.heap.openMiB).toFixed(1)} MiB (⅓ in → end: ${(sse.heap.endMiB - sse.heap.midMiB).toFixed(1)} MiB)`,
      sse.target.memoryPass ? 'PASS' : 'FAIL',
    ],
    [
      `(g) events appended at ≥ 97% of ${sse.targetRate}/s`,
      `${sse.achievedRate.toFixed(1)}/s`,
      sse.target.rateKept ? 'PASS' : 'FAIL',
    ],
  ];
}

export function sseSection(sse: SseBenchResult | undefined): string {
  return `
## (g) Event streams fanned out
${
  sse
    ? `
Quorum as a child process (inspector on loopback) on a fresh database and NATS namespace. One
business organization and an admin API key; ${int(sse.streams)} \`GET /v1/orgs/{orgId}/events/stream\` streams
opened with it over keep-alive loopback sockets, then an open loop of appends of \`session.scheduled\`
(each on its own stream) straight to Quorum's event store from the benchmark's process, as in part
(f), at ${sse.targetRate}/s for ${sse.durationMs / 1000} s: the fan-out at the rate asked, not at what the command path
carries (part (b)). Quorum's relay finds appends from another process by its 20 ms poll.
Each stream is checked against the log paged over \`/v1/events\` afterwards (count, rising
sequences, sums of the sequences and of their squares). Latency runs from the envelope's \`time\`
(the append) to the message's arrival, on every tenth stream. The live heap is read
through Quorum's inspector after a full collection. Baseline, same run: one stream at the same
rate before the others open.

${markdownTable(SSE_HEADER, sseRows(sse))}
`
    : '\n_Did not run._\n'
}`;
}
