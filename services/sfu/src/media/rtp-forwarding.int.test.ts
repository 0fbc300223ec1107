/**
 * Real RTP through one worker: generated in the test, sent into a PlainTransport producer and
 * counted where PlainTransport consumers deliver it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  RtpReceiver,
  consumeRtp,
  createRtpProducer,
  createRtpReceiveTransport,
  requireMediasoupWorkerBin,
  sleep,
  testLogger,
  waitFor,
  type RtpProducer,
} from './testing';
import type { ConsumerClosedEvent, ConsumerProducerPausedEvent, PeerLeftEvent, ProducerClosedEvent } from './types';
import { WorkerPool } from './worker-pool';
import type { Room } from './room';

let pool: WorkerPool;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  requireMediasoupWorkerBin();
  pool = await WorkerPool.create({ logger: testLogger(), workerCount: 1, webRtcServerBasePort: 'auto' });
});

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

afterAll(() => pool?.close());

/** A room with alice producing VP8 and a receiver socket shared by the consumers. */
async function roomWithCamera(): Promise<{ room: Room; camera: RtpProducer; receiver: RtpReceiver }> {
  const room = await pool.getOrCreateRoom(`room-${randomUUID()}`);
  const receiver = await RtpReceiver.open();
  await room.addPeer('alice');
  const camera = await createRtpProducer(room, 'alice', {
    source: 'camera',
    packetsPerSecond: 100,
    keyFrameIntervalMs: 200,
  });
  cleanups.push(() => {
    camera.sender.close();
    receiver.close();
    room.close();
  });
  return { room, camera, receiver };
}

async function addViewer(room: Room, peerId: string, producerId: string, receiver: RtpReceiver, paused = false) {
  await room.addPeer(peerId);
  const transportId = await createRtpReceiveTransport(room, peerId, receiver);
  return consumeRtp(room, peerId, { producerId, transportId, receiver, paused });
}

/** Waits for deliveries in flight to land, then asserts nothing more arrives for `quietMs`. */
async function expectSilence(count: () => number, quietMs = 600): Promise<void> {
  await sleep(200);
  const before = count();
  await sleep(quietMs);
  expect(count()).toBe(before);
}

describe('RTP forwarding through one worker', () => {
  it('delivers generated RTP to every consumer, re-stamped with the consumer SSRC and payload type', async () => {
    const { room, camera, receiver } = await roomWithCamera();
    const bob = await addViewer(room, 'bob', camera.producerId, receiver);
    const carol = await addViewer(room, 'carol', camera.producerId, receiver);
    camera.sender.start();

    await waitFor(
      () => receiver.received(bob.ssrc) >= 100 && receiver.received(carol.ssrc) >= 100,
      10_000,
      () => `bob ${receiver.received(bob.ssrc)}, carol ${receiver.received(carol.ssrc)}`,
    );
    const stats = receiver.stats(bob.ssrc);
    expect(stats.payloadType).toBe(bob.rtpParameters.codecs[0]?.payloadType);
    expect(stats.lost).toBe(0);
    expect(bob.ssrc).not.toBe(carol.ssrc);
    expect(bob.ssrc).not.toBe(camera.sender.ssrcs[0]);
    const [producerStats] = await room.getProducerStats('alice', camera.producerId);
    expect(producerStats?.packetCount).toBeGreaterThanOrEqual(100);
  });

  it('creates consumers paused: nothing flows until the client resumes them', async () => {
    const { room, camera, receiver } = await roomWithCamera();
    const bob = await addViewer(room, 'bob', camera.producerId, receiver, true);
    camera.sender.start();
    await expectSilence(() => receiver.received(bob.ssrc));
    expect(receiver.received(bob.ssrc)).toBe(0);

    await room.resumeConsumer('bob', bob.consumerId);
    await waitFor(
      () => receiver.received(bob.ssrc) >= 20,
      5_000,
      () => `bob got ${receiver.received(bob.ssrc)}`,
    );
  });

  it('stops delivery to a paused consumer only, and restarts it on resume', async () => {
    const { room, camera, receiver } = await roomWithCamera();
    const bob = await addViewer(room, 'bob', camera.producerId, receiver);
    const carol = await addViewer(room, 'carol', camera.producerId, receiver);
    camera.sender.start();
    await waitFor(
      () => receiver.received(bob.ssrc) >= 20,
      5_000,
      () => `bob got ${receiver.received(bob.ssrc)}`,
    );

    await room.pauseConsumer('bob', bob.consumerId);
    const carolBefore = receiver.received(carol.ssrc);
    await expectSilence(() => receiver.received(bob.ssrc));
    expect(receiver.received(carol.ssrc)).toBeGreaterThan(carolBefore + 30);

    const bobPaused = receiver.received(bob.ssrc);
    await room.resumeConsumer('bob', bob.consumerId);
    await waitFor(
      () => receiver.received(bob.ssrc) >= bobPaused + 30,
      5_000,
      () => `bob got ${receiver.received(bob.ssrc) - bobPaused} since resume`,
    );
  });

  it('stops delivery to every consumer while the producer is paused, telling each consumer', async () => {
    const { room, camera, receiver } = await roomWithCamera();
    const events: ConsumerProducerPausedEvent[] = [];
    room.on('consumerProducerPaused', (event) => events.push(event));
    const bob = await addViewer(room, 'bob', camera.producerId, receiver);
    const carol = await addViewer(room, 'carol', camera.producerId, receiver);
    camera.sender.start();
    await waitFor(
      () => receiver.received(carol.ssrc) >= 20,
      5_000,
      () => `carol got ${receiver.received(carol.ssrc)}`,
    );

    await room.pauseProducer('alice', camera.producerId);
    await expectSilence(() => receiver.received(bob.ssrc) + receiver.received(carol.ssrc));
    await waitFor(
      () => events.length === 2,
      2_000,
      () => `${events.length} consumerProducerPaused events`,
    );
    expect(events.map((e) => [e.peerId, e.producerPaused]).sort()).toEqual([
      ['bob', true],
      ['carol', true],
    ]);

    const before = receiver.received(bob.ssrc);
    await room.resumeProducer('alice', camera.producerId);
    await waitFor(
      () => receiver.received(bob.ssrc) >= before + 30,
      5_000,
      () => `bob got ${receiver.received(bob.ssrc) - before} since resume`,
    );
    await waitFor(
      () => events.length === 4,
      2_000,
      () => `${events.length} consumerProducerPaused events`,
    );
    expect(events.slice(2).every((e) => !e.producerPaused)).toBe(true);
  });

  it('closes every consumer of a closed producer and reports why', async () => {
    const { room, camera, receiver } = await roomWithCamera();
    const producerClosed: ProducerClosedEvent[] = [];
    const consumerClosed: ConsumerClosedEvent[] = [];
    room.on('producerClosed', (event) => producerClosed.push(event));
    room.on('consumerClosed', (event) => consumerClosed.push(event));
    const bob = await addViewer(room, 'bob', camera.producerId, receiver);
    const carol = await addViewer(room, 'carol', camera.producerId, receiver);
    camera.sender.start();
    await waitFor(
      () => receiver.received(bob.ssrc) >= 10,
      5_000,
      () => `bob got ${receiver.received(bob.ssrc)}`,
    );

    room.closeProducer('alice', camera.producerId);
    expect(producerClosed).toEqual([
      { roomId: room.id, peerId: 'alice', producerId: camera.producerId, reason: 'closed' },
    ]);
    await waitFor(
      () => consumerClosed.length === 2,
      3_000,
      () => `${consumerClosed.length} consumerClosed events`,
    );
    expect(consumerClosed.map((e) => [e.peerId, e.consumerId, e.reason]).sort()).toEqual(
      [
        ['bob', bob.consumerId, 'producer-closed'],
        ['carol', carol.consumerId, 'producer-closed'],
      ].sort(),
    );
    expect(room.getPeerState('bob').consumerIds).toEqual([]);
    expect(room.listProducers()).toEqual([]);
    await expectSilence(() => receiver.received(bob.ssrc));
  });

  it('removes a leaving peer with all its SFU transports, closing what others consumed from it', async () => {
    const { room, camera, receiver } = await roomWithCamera();
    const left: PeerLeftEvent[] = [];
    const consumerClosed: ConsumerClosedEvent[] = [];
    const producerClosed: ProducerClosedEvent[] = [];
    room.on('peerLeft', (event) => left.push(event));
    room.on('consumerClosed', (event) => consumerClosed.push(event));
    room.on('producerClosed', (event) => producerClosed.push(event));
    const bob = await addViewer(room, 'bob', camera.producerId, receiver);
    expect(room.getPeerState('alice').transports).toHaveLength(1);
    expect(room.getPeerState('bob').transports).toMatchObject([
      { type: 'plain', direction: 'recv', consumerIds: [bob.consumerId] },
    ]);

    expect(room.removePeer('alice')).toBe(true);
    expect(room.removePeer('alice')).toBe(false);
    expect(left).toEqual([{ roomId: room.id, peerId: 'alice', reason: 'left' }]);
    expect(producerClosed).toMatchObject([{ peerId: 'alice', reason: 'peer-left' }]);
    expect(room.hasPeer('alice')).toBe(false);
    expect(room.getState().peers.map((p) => p.peerId)).toEqual(['bob']);
    expect(() => room.getPeerState('alice')).toThrow(/not in room/);
    await waitFor(
      () => consumerClosed.length === 1,
      3_000,
      () => 'bob was not told his consumer closed',
    );
    expect(consumerClosed[0]).toMatchObject({ peerId: 'bob', consumerId: bob.consumerId, reason: 'producer-closed' });

    expect(pool.transportsOf(room.id, 'alice')).toEqual([]);
    expect(pool.transportsOf(room.id, 'bob')).toHaveLength(1);
    room.removePeer('bob');
    expect(pool.transportsOf(room.id, 'bob')).toEqual([]);
    expect(room.getState().peers).toEqual([]);
    expect(pool.getState().workers[0]?.consumers).toBe(0);
  });
});
