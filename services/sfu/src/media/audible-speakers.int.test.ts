/**
 * Audible speakers, against a real worker: a room with more unmuted microphones than
 * `audibleSpeakers` forwards only the ones heard most recently (RTP with ssrc-audio-level
 * generated here through PlainTransports, counted at a listener's receiver).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Room } from './room';
import {
  RtpReceiver,
  consumeRtp,
  createRtpProducer,
  createRtpReceiveTransport,
  requireMediasoupWorkerBin,
  testLogger,
  waitFor,
  type RtpConsumer,
  type RtpProducer,
} from './testing';
import { WorkerPool } from './worker-pool';

const LOUD = 10; // -10 dBov
const SILENT = 127;
const HOLD_MS = 600;

let pool: WorkerPool;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  requireMediasoupWorkerBin();
  pool = await WorkerPool.create({
    logger: testLogger(),
    workerCount: 1,
    webRtcServerBasePort: 'auto',
    audibleSpeakers: 2,
    audibleHoldMs: HOLD_MS,
    audioLevelIntervalMs: 100,
  });
});

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

afterAll(() => pool?.close());

interface Mic {
  peerId: string;
  producer: RtpProducer;
  /** The listener's consumer of it. */
  consumer: RtpConsumer;
}

/** A room with `levels.length` speakers, each with a mic at that level, and one listener consuming every mic. */
async function meeting(levels: number[]): Promise<{ room: Room; receiver: RtpReceiver; mics: Mic[] }> {
  const room = await pool.getOrCreateRoom(`room-${randomUUID()}`);
  cleanups.push(() => room.close());
  const receiver = await RtpReceiver.open();
  cleanups.push(() => receiver.close());
  await room.addPeer('listener');
  const transportId = await createRtpReceiveTransport(room, 'listener', receiver);
  const mics: Mic[] = [];
  for (const [i, level] of levels.entries()) {
    const peerId = `speaker-${i}`;
    await room.addPeer(peerId);
    const producer = await createRtpProducer(room, peerId, { source: 'mic', audioLevelDbov: level });
    cleanups.push(() => producer.sender.close());
    const consumer = await consumeRtp(room, 'listener', { producerId: producer.producerId, transportId, receiver });
    producer.sender.start();
    mics.push({ peerId, producer, consumer });
  }
  return { room, receiver, mics };
}

/** Packets that reach the listener from each mic over `ms`. */
async function arriving(receiver: RtpReceiver, mics: Mic[], ms = 600): Promise<number[]> {
  const before = mics.map((m) => receiver.received(m.consumer.ssrc));
  await new Promise((r) => setTimeout(r, ms));
  return mics.map((m, i) => receiver.received(m.consumer.ssrc) - before[i]!);
}

const ids = (mics: Mic[]) => mics.map((m) => m.producer.producerId).sort();
const audible = (room: Room) => room.audibleProducerIds()?.slice().sort() ?? null;

describe('audible speakers', () => {
  it('forwards every microphone, silent ones too, while there are no more than audibleSpeakers', async () => {
    const { room, receiver, mics } = await meeting([LOUD, SILENT]);
    expect(room.audibleProducerIds()).toBeNull();
    expect(room.getState().audibleProducerIds).toBeNull();
    const counts = await arriving(receiver, mics);
    expect(
      counts.every((n) => n > 10),
      `packets per mic ${counts}`,
    ).toBe(true);
  });

  it('past audibleSpeakers, forwards only the microphones heard, and a new speaker takes the slot of one silent past the hold', async () => {
    const { room, receiver, mics } = await meeting([LOUD, LOUD, SILENT]);
    const [a, b, c] = mics as [Mic, Mic, Mic];
    await waitFor(
      () => JSON.stringify(audible(room)) === JSON.stringify(ids([a, b])),
      5_000,
      () => `audible ${JSON.stringify(audible(room))}`,
    );
    expect(room.isConsumerForwarding('listener', c.consumer.consumerId)).toBe(false);
    const gated = await arriving(receiver, mics);
    expect(gated[0]! > 10 && gated[1]! > 10, `packets per mic ${gated}`).toBe(true);
    expect(gated[2]).toBe(0);

    // a falls silent and c speaks: once a has been quiet for the hold, c takes its slot.
    a.producer.sender.setAudioLevel(SILENT);
    c.producer.sender.setAudioLevel(LOUD);
    const switchedAt = Date.now();
    await waitFor(
      () => JSON.stringify(audible(room)) === JSON.stringify(ids([b, c])),
      5_000,
      () => `audible ${JSON.stringify(audible(room))}`,
    );
    expect(Date.now() - switchedAt).toBeGreaterThanOrEqual(HOLD_MS - 150);
    // The slot changes at once; the pause of a's consumer is a request to the worker after it,
    // and packets forwarded before it may still be on the wire.
    await waitFor(
      () => !room.isConsumerForwarding('listener', a.consumer.consumerId),
      2_000,
      () => 'a is still forwarded',
    );
    await new Promise((r) => setTimeout(r, 200));
    const switched = await arriving(receiver, mics);
    expect(switched[0], `packets per mic ${switched}`).toBe(0);
    expect(switched[1]! > 10 && switched[2]! > 10, `packets per mic ${switched}`).toBe(true);
    expect(room.isConsumerForwarding('listener', a.consumer.consumerId)).toBe(false);
  });

  it('keeps the slots of speakers still heard: a third one talking over them waits', async () => {
    const { room, receiver, mics } = await meeting([LOUD, LOUD, SILENT]);
    const [a, b, c] = mics as [Mic, Mic, Mic];
    await waitFor(
      () => JSON.stringify(audible(room)) === JSON.stringify(ids([a, b])),
      5_000,
      () => `audible ${JSON.stringify(audible(room))}`,
    );
    c.producer.sender.setAudioLevel(LOUD);
    await new Promise((r) => setTimeout(r, HOLD_MS * 2));
    expect(audible(room)).toEqual(ids([a, b]));
    expect((await arriving(receiver, mics))[2]).toBe(0);
  });

  it('forwards every microphone again once one is muted, and never resumes what the client paused', async () => {
    const { room, receiver, mics } = await meeting([LOUD, SILENT, SILENT]);
    const [a, b, c] = mics as [Mic, Mic, Mic];
    await waitFor(
      () => JSON.stringify(audible(room)) === JSON.stringify(ids([a])),
      5_000,
      () => `audible ${JSON.stringify(audible(room))}`,
    );
    expect(room.isConsumerForwarding('listener', b.consumer.consumerId)).toBe(false);

    // The listener pauses b itself; then c is muted, which leaves two unmuted mics: no gating.
    await room.pauseConsumer('listener', b.consumer.consumerId);
    await room.pauseProducer(c.peerId, c.producer.producerId);
    await waitFor(
      () => room.audibleProducerIds() === null,
      2_000,
      () => `audible ${JSON.stringify(audible(room))}`,
    );
    await waitFor(
      () => room.isConsumerForwarding('listener', a.consumer.consumerId),
      2_000,
      () => 'a is not forwarded',
    );
    expect(room.isConsumerForwarding('listener', b.consumer.consumerId)).toBe(false);
    const counts = await arriving(receiver, mics);
    expect(counts[0]! > 10, `packets per mic ${counts}`).toBe(true);
    expect(counts[1]).toBe(0);

    await room.resumeConsumer('listener', b.consumer.consumerId);
    expect(room.isConsumerForwarding('listener', b.consumer.consumerId)).toBe(true);
    const resumed = await arriving(receiver, mics);
    expect(resumed[1]! > 10, `packets per mic ${resumed}`).toBe(true);
  });

  it('forgets a speaker whose microphone closed, freeing its slot at once', async () => {
    const { room, mics } = await meeting([LOUD, LOUD, SILENT, SILENT]);
    const [a, b, c] = mics as [Mic, Mic, Mic, Mic];
    await waitFor(
      () => JSON.stringify(audible(room)) === JSON.stringify(ids([a, b])),
      5_000,
      () => `audible ${JSON.stringify(audible(room))}`,
    );
    c.producer.sender.setAudioLevel(LOUD);
    room.closeProducer(a.peerId, a.producer.producerId);
    await waitFor(
      () => JSON.stringify(audible(room)) === JSON.stringify(ids([b, c])),
      2_000,
      () => `audible ${JSON.stringify(audible(room))}`,
    );
  });
});
