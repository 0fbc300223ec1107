/**
 * SFU forwarding benchmarks on real mediasoup workers, RTP generated and counted in this process
 * over loopback (PlainTransports; see services/sfu/src/media/testing).
 *
 * - Fan-out: N VP8-like producers, each consumed by M receiving peers (one PlainTransport per
 *   peer carrying its N consumers, one UDP socket per peer demultiplexed by SSRC), all on one
 *   worker. Over a fixed window: packets received per consumer against packets its producer sent,
 *   and the worker's CPU from getResourceUsage() (ru_utime + ru_stime deltas).
 * - Room: one meeting of P participants over two workers; a few speakers send camera and mic,
 *   everyone consumes everyone else's producers. Peers join one by one as they would through
 *   signaling, so the consumer budget spreads them over both workers and the producers are piped.
 */
import { randomUUID } from 'node:crypto';
import type { Room, WorkerPool, WorkerStats } from '@quorum/sfu/media';
import {
  RtpReceiver,
  consumeRtp,
  createRtpProducer,
  createRtpReceiveTransport,
  sleep,
  type RtpProducer,
} from '@quorum/sfu/media/testing';

const WARMUP_MS = 2_000;
const DRAIN_MS = 500;

export interface FanOutOptions {
  pool: WorkerPool;
  producers: number;
  consumersPerProducer: number;
  packetsPerSecond: number;
  payloadSize: number;
  windowMs: number;
  log: (line: string) => void;
}

export interface FanOutResult {
  producers: number;
  consumers: number;
  packetsPerSecond: number;
  payloadSize: number;
  windowMs: number;
  sent: number;
  expected: number;
  received: number;
  lossRatio: number;
  worstConsumerLoss: number;
  forwardedPerSecond: number;
  /** Worker CPU time over the window, in percent of one core. */
  workerCpuPercent: number;
  /** Worker CPU milliseconds per second, per consumer. */
  cpuMsPerSecondPerConsumer: number;
  /** This process (generator and receivers), in percent of one core. */
  generatorCpuPercent: number;
  sendErrors: number;
}

interface MeasuredConsumer {
  peerId: string;
  receiver: RtpReceiver;
  ssrc: number;
  producer: RtpProducer;
}

interface Window {
  expected: number;
  received: number;
  perConsumer: Array<{ consumer: MeasuredConsumer; expected: number; received: number }>;
  workerCpuMs: Map<number, number>;
  generatorCpuMs: number;
  elapsedMs: number;
}

/** Sends from every producer for the warm-up, then counts over `windowMs`, then stops and drains. */
async function measure(
  pool: WorkerPool,
  producers: RtpProducer[],
  consumers: MeasuredConsumer[],
  windowMs: number,
): Promise<Window> {
  for (const p of producers) p.sender.start();
  await sleep(WARMUP_MS);
  const sentAt = new Map(producers.map((p) => [p, p.sender.sent]));
  const receivedAt = consumers.map((c) => c.receiver.received(c.ssrc));
  const cpuAt = await workerCpu(pool);
  const processAt = process.cpuUsage();
  const startedAt = performance.now();
  await sleep(windowMs);
  for (const p of producers) p.sender.stop();
  const elapsedMs = performance.now() - startedAt;
  const cpuEnd = await workerCpu(pool);
  const processCpu = process.cpuUsage(processAt);
  await sleep(DRAIN_MS);
  const perConsumer = consumers.map((consumer, i) => ({
    consumer,
    expected: consumer.producer.sender.sent - (sentAt.get(consumer.producer) ?? 0),
    received: consumer.receiver.received(consumer.ssrc) - (receivedAt[i] ?? 0),
  }));
  return {
    expected: perConsumer.reduce((n, c) => n + c.expected, 0),
    received: perConsumer.reduce((n, c) => n + Math.min(c.received, c.expected), 0),
    perConsumer,
    workerCpuMs: new Map([...cpuEnd].map(([index, ms]) => [index, ms - (cpuAt.get(index) ?? 0)])),
    generatorCpuMs: (processCpu.user + processCpu.system) / 1_000,
    elapsedMs,
  };
}

async function workerCpu(pool: WorkerPool): Promise<Map<number, number>> {
  const stats: WorkerStats[] = await pool.getWorkerStats();
  return new Map(stats.map((s) => [s.workerIndex, s.resourceUsage.ru_utime + s.resourceUsage.ru_stime]));
}

function lossOf(expected: number, received: number): number {
  return expected > 0 ? Math.max(0, 1 - received / expected) : 1;
}

export async function runFanOutBench(options: FanOutOptions): Promise<FanOutResult> {
  const { pool, log } = options;
  const room = await pool.getOrCreateRoom(`bench-fanout-${randomUUID()}`);
  const producers: RtpProducer[] = [];
  const receivers: RtpReceiver[] = [];
  try {
    for (let i = 0; i < options.producers; i++) {
      const peerId = `sender-${i}`;
      await room.addPeer(peerId);
      producers.push(
        await createRtpProducer(room, peerId, {
          source: 'camera',
          packetsPerSecond: options.packetsPerSecond,
          payloadSize: options.payloadSize,
          framesPerSecond: 30,
          keyFrameIntervalMs: 2_000,
        }),
      );
    }
    const consumers: MeasuredConsumer[] = [];
    for (let j = 0; j < options.consumersPerProducer; j++) {
      const peerId = `viewer-${j}`;
      await room.addPeer(peerId);
      const receiver = await RtpReceiver.open();
      receivers.push(receiver);
      const transportId = await createRtpReceiveTransport(room, peerId, receiver);
      for (const producer of producers) {
        const consumer = await consumeRtp(room, peerId, { producerId: producer.producerId, transportId, receiver });
        consumers.push({ peerId, receiver, ssrc: consumer.ssrc, producer });
      }
    }
    const stats = await pool.getWorkerStats();
    log(
      `  ${consumers.length} consumers on ${stats.length} worker(s) (${stats.map((s) => s.consumers).join(' + ')}); sending for ${(WARMUP_MS + options.windowMs) / 1_000} s`,
    );
    const window = await measure(pool, producers, consumers, options.windowMs);
    const seconds = window.elapsedMs / 1_000;
    const workerCpuMs = [...window.workerCpuMs.values()].reduce((n, v) => n + v, 0);
    return {
      producers: producers.length,
      consumers: consumers.length,
      packetsPerSecond: options.packetsPerSecond,
      payloadSize: options.payloadSize,
      windowMs: window.elapsedMs,
      sent: producers.reduce((n, p) => n + p.sender.sent, 0),
      expected: window.expected,
      received: window.received,
      lossRatio: lossOf(window.expected, window.received),
      worstConsumerLoss: Math.max(...window.perConsumer.map((c) => lossOf(c.expected, c.received))),
      forwardedPerSecond: window.received / seconds,
      workerCpuPercent: (workerCpuMs / window.elapsedMs) * 100,
      cpuMsPerSecondPerConsumer: workerCpuMs / seconds / consumers.length,
      generatorCpuPercent: (window.generatorCpuMs / window.elapsedMs) * 100,
      sendErrors: producers.reduce((n, p) => n + p.sender.sendErrors, 0),
    };
  } finally {
    for (const p of producers) p.sender.close();
    for (const r of receivers) r.close();
    room.close();
  }
}

export interface RoomBenchOptions {
  pool: WorkerPool;
  participants: number;
  /** Participants sending camera (VP8) and mic (Opus); everyone else only receives. */
  speakers: number;
  videoPacketsPerSecond: number;
  videoPayloadSize: number;
  windowMs: number;
  log: (line: string) => void;
}

export interface WorkerShare {
  workerIndex: number;
  peers: number;
  consumers: number;
  cpuPercent: number;
}

export interface RoomBenchResult {
  participants: number;
  speakers: number;
  producers: number;
  consumers: number;
  pipes: number;
  consumerBudget: number;
  workers: WorkerShare[];
  windowMs: number;
  expected: number;
  received: number;
  lossRatio: number;
  /** Per participant: received / expected over all its consumers. */
  delivery: { min: number; median: number; mean: number };
  /** Participants that received less than 99% of what their consumers should have. */
  participantsBelow99: number;
  /** Consumers that got nothing in the window. */
  silentConsumers: number;
  generatorCpuPercent: number;
  sendErrors: number;
}

export async function runRoomBench(options: RoomBenchOptions): Promise<RoomBenchResult> {
  const { pool, log } = options;
  const room: Room = await pool.getOrCreateRoom(`bench-room-${randomUUID()}`);
  const producers: RtpProducer[] = [];
  const owners = new Map<RtpProducer, string>();
  const receivers = new Map<string, RtpReceiver>();
  const transports = new Map<string, string>();
  const consumers: MeasuredConsumer[] = [];
  const consumeAll = async (peerId: string) => {
    const receiver = receivers.get(peerId);
    const transportId = transports.get(peerId);
    if (!receiver || !transportId) throw new Error(`${peerId} has no receive transport`);
    for (const producer of producers) {
      if (owners.get(producer) === peerId) continue;
      const consumer = await consumeRtp(room, peerId, { producerId: producer.producerId, transportId, receiver });
      consumers.push({ peerId, receiver, ssrc: consumer.ssrc, producer });
    }
  };
  const join = async (peerId: string) => {
    await room.addPeer(peerId);
    const receiver = await RtpReceiver.open();
    receivers.set(peerId, receiver);
    transports.set(peerId, await createRtpReceiveTransport(room, peerId, receiver));
  };
  try {
    const ids = Array.from({ length: options.participants }, (_, i) => `participant-${String(i).padStart(2, '0')}`);
    const speakers = ids.slice(0, options.speakers);
    // Speakers join and publish first, then consume each other; the others join one by one and
    // consume every producer, as signaling would on join.
    for (const peerId of speakers) {
      await join(peerId);
      const camera = await createRtpProducer(room, peerId, {
        source: 'camera',
        packetsPerSecond: options.videoPacketsPerSecond,
        payloadSize: options.videoPayloadSize,
        framesPerSecond: 30,
        keyFrameIntervalMs: 2_000,
      });
      const mic = await createRtpProducer(room, peerId, { source: 'mic', audioLevelDbov: 30 });
      for (const producer of [camera, mic]) {
        producers.push(producer);
        owners.set(producer, peerId);
      }
    }
    for (const peerId of speakers) await consumeAll(peerId);
    for (const peerId of ids.slice(options.speakers)) {
      await join(peerId);
      await consumeAll(peerId);
    }
    const state = room.getState();
    const peersByWorker = new Map<number, number>();
    for (const peer of state.peers) peersByWorker.set(peer.workerIndex, (peersByWorker.get(peer.workerIndex) ?? 0) + 1);
    const loads = await pool.getWorkerStats();
    log(
      `  ${state.peers.length} participants, ${consumers.length} consumers, ${state.pipes.length} pipes; per worker: ` +
        loads
          .map((s) => `#${s.workerIndex} ${peersByWorker.get(s.workerIndex) ?? 0} peers / ${s.consumers} consumers`)
          .join(', '),
    );
    const window = await measure(pool, producers, consumers, options.windowMs);
    const perParticipant = new Map<string, { expected: number; received: number }>();
    for (const c of window.perConsumer) {
      const entry = perParticipant.get(c.consumer.peerId) ?? { expected: 0, received: 0 };
      entry.expected += c.expected;
      entry.received += Math.min(c.received, c.expected);
      perParticipant.set(c.consumer.peerId, entry);
    }
    const delivery = [...perParticipant.values()]
      .map((p) => (p.expected > 0 ? p.received / p.expected : 0))
      .sort((a, b) => a - b);
    return {
      participants: state.peers.length,
      speakers: options.speakers,
      producers: producers.length,
      consumers: consumers.length,
      pipes: state.pipes.length,
      consumerBudget: pool.consumerBudgetPerWorker,
      workers: loads.map((s) => ({
        workerIndex: s.workerIndex,
        peers: peersByWorker.get(s.workerIndex) ?? 0,
        consumers: s.consumers,
        cpuPercent: ((window.workerCpuMs.get(s.workerIndex) ?? 0) / window.elapsedMs) * 100,
      })),
      windowMs: window.elapsedMs,
      expected: window.expected,
      received: window.received,
      lossRatio: lossOf(window.expected, window.received),
      delivery: {
        min: delivery[0] ?? 0,
        median: delivery[Math.floor(delivery.length / 2)] ?? 0,
        mean: delivery.reduce((n, d) => n + d, 0) / Math.max(1, delivery.length),
      },
      participantsBelow99: delivery.filter((d) => d < 0.99).length,
      silentConsumers: window.perConsumer.filter((c) => c.received === 0).length,
      generatorCpuPercent: (window.generatorCpuMs / window.elapsedMs) * 100,
      sendErrors: producers.reduce((n, p) => n + p.sender.sendErrors, 0),
    };
  } finally {
    for (const p of producers) p.sender.close();
    for (const r of receivers.values()) r.close();
    room.close();
  }
}
