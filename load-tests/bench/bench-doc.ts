/**
 * What the benchmark docs share: the machine their figures were measured on, and the marked
 * blocks (`<!-- name:start -->` … `<!-- name:end -->`) that another command owns in the same
 * file, which a rewrite carries over unchanged.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The machine facts every benchmark doc lists. */
export interface MachineFacts {
  date: string;
  /** The npm script that wrote the doc. */
  command: string;
  nproc: number;
  ramGiB: string;
  cpu: string;
  kernel: string;
  node: string;
  loadAverage: string;
}

const isNotFound = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';

export function cpuModel(): string {
  let cpuinfo: string;
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return os.cpus()[0]?.model ?? '?'; // no /proc/cpuinfo (not Linux): Node's own view
  }
  return /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? '?';
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

export function describeMachine(command: string, date: Date = new Date()): MachineFacts {
  return {
    date: date.toISOString(),
    command,
    nproc: os.availableParallelism(),
    ramGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    cpu: cpuModel(),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverage: loadAverage(),
  };
}

/**
 * The doc's machine table: the facts every doc shows, then `services` (what the benchmark ran
 * against, one `[name, description]` row each), then the load average at the start.
 */
export function machineTable(machine: MachineFacts, services: ReadonlyArray<readonly [string, string]>): string {
  const rows: Array<readonly [string, string]> = [
    ['date', machine.date],
    ['command', `\`${machine.command}\` (from the repository root)`],
    ['nproc', String(machine.nproc)],
    ['RAM', `${machine.ramGiB} GiB`],
    ['CPU', machine.cpu],
    ['kernel', machine.kernel],
    ['Node', machine.node],
    ...services,
    ['load average at start', machine.loadAverage],
  ];
  return ['| | |', '|---|---|', ...rows.map(([name, value]) => `| ${name} | ${value} |`)].join('\n');
}

/** The text of a doc, or `undefined` when it does not exist yet (the first run). */
export function readDoc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export interface Markers {
  start: string;
  end: string;
}

export const markers = (name: string): Markers => ({ start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` });

/** docs/benchmarks-sfu.md's block that `npm run bench:join` writes and `npm run bench:sfu` keeps. */
export const JOIN_LATENCY_BLOCK = markers('join-latency');

/** The block of `doc` from its start marker through its end marker, or `undefined` when it has none. */
export function markedBlock(doc: string | undefined, { start, end }: Markers): string | undefined {
  if (doc === undefined) return undefined;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  return from >= 0 && to > from ? doc.slice(from, to + end.length) : undefined;
}

/**
 * `doc` with its marked block replaced by `block` (which carries the markers), or with `block`
 * appended after a blank line when `doc` has none.
 */
export function replaceMarkedBlock(doc: string, { start, end }: Markers, block: string): string {
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  return from >= 0 && to > from
    ? `${doc.slice(0, from)}${block}${doc.slice(to + end.length)}`
    : `${doc.trimEnd()}\n\n${block}\n`;
}
