/**
 * The SFU's mediasoup workers and the rooms on them: the media layer's entry point.
 *
 * One worker process per core by default, each with one WebRtcServer (UDP and TCP on one port,
 * `webRtcServerBasePort + index`). A worker that dies is replaced in its slot by a new one with a
 * new WebRtcServer (retrying with backoff if the start fails); before that the pool tells every
 * room, which drops the peers placed on it, and emits `workerDied` naming the rooms and peers, so
 * signaling can ask those participants to reconnect. Other workers and rooms carry on.
 *
 * mediasoup reads `MEDIASOUP_WORKER_BIN` when its module loads (see docs/mediasoup.md): the
 * process that imports this module must have it set. `create()` checks the binary exists.
 */
import { EventEmitter } from 'node:events';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { preconditionFailed } from '@quorum/domain';
import { workerBin, type types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import { MediaWorker, type MediaWorkerSettings } from './media-worker';
import { Room, type RoomHost, type RoomSettings } from './room';
import type { ServerState, TransportState, WorkerPoolEvents, WorkerStats } from './types';

export interface WorkerPoolOptions {
  logger: Logger;
  /** Worker processes. Default: one per core (`os.availableParallelism()`). */
  workerCount?: number;
  /** Consumers a worker takes before rooms place new peers elsewhere (see `placement.ts`). Default 500. */
  consumerBudgetPerWorker?: number;
  /** IP the WebRtcServers, PlainTransports and pipes listen on. Default `127.0.0.1`. */
  listenIp?: string;
  /** IP announced in ICE candidates / PlainTransport tuples when clients reach the SFU through another address. */
  announcedIp?: string;
  /**
   * Worker `i`'s WebRtcServer listens on `webRtcServerBasePort + i` (UDP and TCP); keep that
   * range outside `[rtcMinPort, rtcMaxPort]`. `auto`: a port found free when the worker starts
   * (tests). Default 44400.
   */
  webRtcServerBasePort?: number | 'auto';
  /** Ports for PlainTransports and pipe transports. Default 40000–44399. */
  rtcMinPort?: number;
  rtcMaxPort?: number;
  /** Default `warn`. */
  logLevel?: ms.WorkerLogLevel;
  /** ActiveSpeakerObserver interval. Default 300 ms. */
  activeSpeakerIntervalMs?: number;
  /**
   * A room with more unmuted microphones than this forwards only the sound of the ones heard
   * most recently (see `room.ts`). Default 3 (as large meeting services do); 0 forwards every one.
   */
  audibleSpeakers?: number;
  /** A microphone keeps its audible slot this long after it was last heard. Default 2,000 ms. */
  audibleHoldMs?: number;
  /**
   * How long the highest spatial layer wanted from a simulcast camera must stay lower before its
   * owner is told to stop encoding the layers above (a rise is told at once). Default 2,000 ms.
   */
  layersLowerAfterMs?: number;
  /** AudioLevelObserver interval. Default 100 ms (how late a new speaker is heard, at most). */
  audioLevelIntervalMs?: number;
  /** Loudness (dBov, -127 to 0) above which a microphone counts as heard. Default -60. */
  audioLevelThresholdDbov?: number;
  /** WebRtcTransport `initialAvailableOutgoingBitrate`. Default 1,000,000. */
  initialAvailableOutgoingBitrate?: number;
  /** Cap on what a client may send per send transport. Default 1,500,000 bit/s; `null` for none. */
  maxIncomingBitrate?: number | null;
}

const DEFAULTS = {
  consumerBudgetPerWorker: 500,
  listenIp: '127.0.0.1',
  webRtcServerBasePort: 44_400,
  rtcMinPort: 40_000,
  rtcMaxPort: 44_399,
  logLevel: 'warn',
  activeSpeakerIntervalMs: 300,
  audibleSpeakers: 3,
  audibleHoldMs: 2_000,
  layersLowerAfterMs: 2_000,
  audioLevelIntervalMs: 100,
  audioLevelThresholdDbov: -60,
  initialAvailableOutgoingBitrate: 1_000_000,
  maxIncomingBitrate: 1_500_000,
} as const;

const REPLACE_BACKOFF_MIN_MS = 500;
const REPLACE_BACKOFF_MAX_MS = 30_000;

interface PoolConfig {
  workerCount: number;
  basePort: number | 'auto';
  worker: Omit<MediaWorkerSettings, 'webRtcServerPort'>;
  room: RoomSettings;
}

export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  private readonly log: Logger;
  private readonly slots: Array<MediaWorker | undefined>;
  private readonly rooms = new Map<string, Room>();
  private readonly roomCreations = new Map<string, Promise<Room>>();
  private readonly stop = new AbortController();
  private readonly host: RoomHost;

  private constructor(
    logger: Logger,
    private readonly config: PoolConfig,
    workers: MediaWorker[],
  ) {
    super();
    this.log = logger.child({ component: 'sfu-pool' });
    this.slots = workers;
    for (const worker of workers) this.watch(worker);
    this.host = {
      logger: logger.child({ component: 'sfu-room' }),
      settings: config.room,
      liveWorkers: () => this.liveWorkers(),
      roomClosed: (room) => {
        if (this.rooms.get(room.id) === room) this.rooms.delete(room.id);
      },
    };
  }

  /** Validates the options, checks the worker binary and starts every worker. */
  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    const config = resolveConfig(options);
    try {
      await access(workerBin, constants.X_OK);
    } catch (err) {
      throw new Error(
        `mediasoup worker binary ${workerBin} is missing or not executable: set MEDIASOUP_WORKER_BIN="$(scripts/mediasoup-worker.sh)" ` +
          'before the process starts (see docs/mediasoup.md)',
        { cause: err },
      );
    }
    const started = await Promise.allSettled(
      Array.from({ length: config.workerCount }, (_, index) => MediaWorker.start(index, workerSettings(config, index))),
    );
    const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      for (const worker of workers) worker.close();
      throw new Error(`could not start the mediasoup workers: ${(failed.reason as Error).message}`, {
        cause: failed.reason,
      });
    }
    const pool = new WorkerPool(options.logger, config, workers);
    pool.log.info(
      {
        workers: workers.map((w) => ({ index: w.index, pid: w.pid, port: w.webRtcServerPort })),
        budget: config.room.consumerBudgetPerWorker,
      },
      'mediasoup workers started',
    );
    return pool;
  }

  get closed(): boolean {
    return this.stop.signal.aborted;
  }

  get workerCount(): number {
    return this.config.workerCount;
  }

  get consumerBudgetPerWorker(): number {
    return this.config.room.consumerBudgetPerWorker;
  }

  /** Live workers in slot order (a slot whose worker died is missing until its replacement runs). */
  liveWorkers(): MediaWorker[] {
    return this.slots.filter((w): w is MediaWorker => w !== undefined && w.alive);
  }

  /** The worker in slot `index`, if alive (tests kill it with `process.kill(worker.pid)`). */
  worker(index: number): MediaWorker | undefined {
    const worker = this.slots[index];
    return worker?.alive ? worker : undefined;
  }

  /** The meeting's room, created (with its first router, on the least loaded worker) on first use. */
  async getOrCreateRoom(roomId: string): Promise<Room> {
    if (this.closed) throw preconditionFailed('sfu.pool_closed', 'the SFU worker pool is closed');
    const existing = this.rooms.get(roomId);
    if (existing) return existing;
    let pending = this.roomCreations.get(roomId);
    if (!pending) {
      pending = Room.create(this.host, roomId)
        .then((room) => {
          if (this.closed) {
            room.close();
            throw preconditionFailed('sfu.pool_closed', 'the SFU worker pool is closed');
          }
          this.rooms.set(roomId, room);
          return room;
        })
        .finally(() => this.roomCreations.delete(roomId));
      this.roomCreations.set(roomId, pending);
    }
    return pending;
  }

  getRoom(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
  }

  get roomIds(): string[] {
    return [...this.rooms.keys()];
  }

  /** Load and `getResourceUsage()` of every live worker. */
  async getWorkerStats(): Promise<WorkerStats[]> {
    return Promise.all(
      this.liveWorkers().map(async (w) => ({
        workerIndex: w.index,
        pid: w.pid,
        consumers: w.consumers,
        consumerBudget: this.config.room.consumerBudgetPerWorker,
        routers: w.routers.size,
        resourceUsage: await w.getResourceUsage(),
      })),
    );
  }

  /** Workers and rooms as the pool sees them now. */
  getState(): ServerState {
    return {
      workers: this.liveWorkers().map((w) => ({
        workerIndex: w.index,
        pid: w.pid,
        consumers: w.consumers,
        routerIds: [...w.routers].map((r) => r.id),
        webRtcServerPort: w.webRtcServerPort,
      })),
      rooms: [...this.rooms.values()].map((room) => room.getState()),
    };
  }

  /** The peer's SFU transports; `[]` when the room or the peer does not exist (e.g. a peer that never sent media). */
  transportsOf(roomId: string, peerId: string): TransportState[] {
    const room = this.rooms.get(roomId);
    return room?.hasPeer(peerId) ? room.getPeerState(peerId).transports : [];
  }

  /** Closes every room, then every worker; stops pending replacements. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.stop.abort();
    for (const room of [...this.rooms.values()]) room.close();
    this.rooms.clear();
    for (const worker of this.slots) worker?.close();
    this.log.info('mediasoup workers closed');
  }

  private watch(worker: MediaWorker): void {
    worker.worker.on('died', (error) => this.workerDied(worker, error));
  }

  private workerDied(worker: MediaWorker, error: Error): void {
    if (this.slots[worker.index] !== worker) return;
    this.slots[worker.index] = undefined;
    this.log.error({ err: error, workerIndex: worker.index, pid: worker.pid }, 'mediasoup worker died; replacing it');
    const rooms = [...this.rooms.values()].flatMap((room) => room.handleWorkerDied(worker) ?? []);
    this.notify('workerDied', { workerIndex: worker.index, pid: worker.pid, error, rooms });
    void this.replace(worker.index, worker.pid);
  }

  /** Emits to the pool's listeners; a listener that throws is logged, never thrown into mediasoup or the replacement loop. */
  private notify<K extends keyof WorkerPoolEvents>(event: K, ...args: WorkerPoolEvents[K]): void {
    try {
      // Typed by the signature above; EventEmitter's own generics cannot follow a generic K.
      (this as EventEmitter).emit(event, ...args);
    } catch (err) {
      this.log.error({ err, event }, 'worker pool event listener threw');
    }
  }

  /** Restarts slot `index` until it works or the pool closes. Never rejects. */
  private async replace(index: number, previousPid: number): Promise<void> {
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        const worker = await MediaWorker.start(index, workerSettings(this.config, index));
        if (this.closed) {
          worker.close();
          return;
        }
        this.slots[index] = worker;
        this.watch(worker);
        this.log.warn({ workerIndex: index, pid: worker.pid, previousPid, attempt }, 'mediasoup worker replaced');
        this.notify('workerReplaced', {
          workerIndex: index,
          pid: worker.pid,
          previousPid,
          webRtcServerPort: worker.webRtcServerPort,
        });
        return;
      } catch (err) {
        const retryInMs = Math.min(REPLACE_BACKOFF_MAX_MS, REPLACE_BACKOFF_MIN_MS * 2 ** (attempt - 1));
        this.log.error({ err, workerIndex: index, attempt, retryInMs }, 'could not replace the mediasoup worker');
        this.notify('workerReplaceFailed', { workerIndex: index, attempt, error: err as Error, retryInMs });
        try {
          await sleep(retryInMs, undefined, { signal: this.stop.signal });
        } catch {
          return; // aborted: the pool closed
        }
      }
    }
  }
}

function resolveConfig(options: WorkerPoolOptions): PoolConfig {
  const issues: string[] = [];
  const positiveInt = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) issues.push(`${name} must be a positive integer, got ${value}`);
  };
  const workerCount = options.workerCount ?? os.availableParallelism();
  const budget = options.consumerBudgetPerWorker ?? DEFAULTS.consumerBudgetPerWorker;
  const basePort = options.webRtcServerBasePort ?? DEFAULTS.webRtcServerBasePort;
  const rtcMinPort = options.rtcMinPort ?? DEFAULTS.rtcMinPort;
  const rtcMaxPort = options.rtcMaxPort ?? DEFAULTS.rtcMaxPort;
  const interval = options.activeSpeakerIntervalMs ?? DEFAULTS.activeSpeakerIntervalMs;
  positiveInt('workerCount', workerCount);
  positiveInt('consumerBudgetPerWorker', budget);
  positiveInt('activeSpeakerIntervalMs', interval);
  const audibleSpeakers = options.audibleSpeakers ?? DEFAULTS.audibleSpeakers;
  const audibleHoldMs = options.audibleHoldMs ?? DEFAULTS.audibleHoldMs;
  const layersLowerAfterMs = options.layersLowerAfterMs ?? DEFAULTS.layersLowerAfterMs;
  const audioLevelIntervalMs = options.audioLevelIntervalMs ?? DEFAULTS.audioLevelIntervalMs;
  const audioLevelThresholdDbov = options.audioLevelThresholdDbov ?? DEFAULTS.audioLevelThresholdDbov;
  if (!Number.isInteger(audibleSpeakers) || audibleSpeakers < 0)
    issues.push(`audibleSpeakers must be an integer ≥ 0, got ${audibleSpeakers}`);
  if (!Number.isInteger(audibleHoldMs) || audibleHoldMs < 0)
    issues.push(`audibleHoldMs must be an integer ≥ 0, got ${audibleHoldMs}`);
  if (!Number.isInteger(layersLowerAfterMs) || layersLowerAfterMs < 0)
    issues.push(`layersLowerAfterMs must be an integer ≥ 0, got ${layersLowerAfterMs}`);
  positiveInt('audioLevelIntervalMs', audioLevelIntervalMs);
  if (!Number.isInteger(audioLevelThresholdDbov) || audioLevelThresholdDbov < -127 || audioLevelThresholdDbov > 0) {
    issues.push(`audioLevelThresholdDbov must be an integer in [-127, 0], got ${audioLevelThresholdDbov}`);
  }
  positiveInt('rtcMinPort', rtcMinPort);
  if (!Number.isInteger(rtcMaxPort) || rtcMaxPort < rtcMinPort || rtcMaxPort > 65_535) {
    issues.push(`rtcMaxPort must be an integer in [rtcMinPort, 65535], got ${rtcMaxPort}`);
  }
  if (basePort !== 'auto') {
    const last = basePort + workerCount - 1;
    if (!Number.isInteger(basePort) || basePort < 1 || last > 65_535) {
      issues.push(`webRtcServerBasePort ${basePort} leaves no port for ${workerCount} workers`);
    }
    if (basePort <= rtcMaxPort && last >= rtcMinPort) {
      issues.push(`WebRtcServer ports ${basePort}-${last} overlap the RTC port range ${rtcMinPort}-${rtcMaxPort}`);
    }
  }
  if (issues.length > 0) throw new Error(`invalid WorkerPool options:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  const listenIp = options.listenIp ?? DEFAULTS.listenIp;
  const maxIncomingBitrate =
    options.maxIncomingBitrate === null ? undefined : (options.maxIncomingBitrate ?? DEFAULTS.maxIncomingBitrate);
  return {
    workerCount,
    basePort,
    worker: {
      logLevel: options.logLevel ?? DEFAULTS.logLevel,
      rtcMinPort,
      rtcMaxPort,
      listenIp,
      announcedIp: options.announcedIp,
    },
    room: {
      consumerBudgetPerWorker: budget,
      listenIp,
      announcedIp: options.announcedIp,
      activeSpeakerIntervalMs: interval,
      audibleSpeakers,
      audibleHoldMs,
      layersLowerAfterMs,
      audioLevelIntervalMs,
      audioLevelThresholdDbov,
      initialAvailableOutgoingBitrate:
        options.initialAvailableOutgoingBitrate ?? DEFAULTS.initialAvailableOutgoingBitrate,
      maxIncomingBitrate,
    },
  };
}

function workerSettings(config: PoolConfig, index: number): MediaWorkerSettings {
  return { ...config.worker, webRtcServerPort: config.basePort === 'auto' ? 'auto' : config.basePort + index };
}
