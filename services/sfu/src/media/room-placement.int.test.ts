/**
 * A room spread over two workers by a tiny consumer budget: later peers land on the second
 * worker, producers are piped there once with pipeToRouter(), and real RTP still reaches the
 * consumers on the second worker (and back the other way).
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
  sleep,
  testLogger,
  waitFor,
} from './testing';
import type { ActiveSpeakerChangedEvent, ConsumerClosedEvent } from './types';
import { WorkerPool } from './worker-pool';

let pool: WorkerPool;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  requireMediasoupWorkerBin();
  pool = await WorkerPool.create({
    logger: testLogger(),
    workerCount: 2,
    consumerBudgetPerWorker: 2,
    webRtcServerBasePort: 'auto',
  });
});

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

afterAll(() => pool?.close());

async function viewer(room: Room, peerId: string, receiver: RtpReceiver) {
  const joined = await room.addPeer(peerId);
  const transportId = await createRtpReceiveTransport(room, peerId, receiver);
  return { joined, transportId };
}

describe('placement over a consumer budget', () => {
  it('spills later peers to the second worker, pipes producers once, and forwards RTP across', async () => {
    const room = await pool.getOrCreateRoom(`room-${randomUUID()}`);
    const receiver = await RtpReceiver.open();
    cleanups.push(() => {
      receiver.close();
      room.close();
    });

    const alice = await room.addPeer('alice');
    const camera = await createRtpProducer(room, 'alice', {
      source: 'camera',
      packetsPerSecond: 100,
      keyFrameIntervalMs: 200,
    });
    cleanups.push(() => camera.sender.close());
    const home = alice.workerIndex;
    const other = 1 - home;

    // bob and carol fill alice's worker up to the budget of 2 consumers.
    const bob = await viewer(room, 'bob', receiver);
    const bobCamera = await consumeRtp(room, 'bob', {
      producerId: camera.producerId,
      transportId: bob.transportId,
      receiver,
    });
    const carol = await viewer(room, 'carol', receiver);
    const carolCamera = await consumeRtp(room, 'carol', {
      producerId: camera.producerId,
      transportId: carol.transportId,
      receiver,
    });
    expect([bob.joined.workerIndex, carol.joined.workerIndex]).toEqual([home, home]);
    expect(pool.worker(home)?.consumers).toBe(2);

    // dave and erin go to the other worker; consuming there pipes alice's camera once.
    const dave = await viewer(room, 'dave', receiver);
    expect(dave.joined.workerIndex).toBe(other);
    expect(dave.joined.routerId).not.toBe(alice.routerId);
    const daveCamera = await consumeRtp(room, 'dave', {
      producerId: camera.producerId,
      transportId: dave.transportId,
      receiver,
    });
    const erin = await viewer(room, 'erin', receiver);
    expect(erin.joined.workerIndex).toBe(other);
    const erinCamera = await consumeRtp(room, 'erin', {
      producerId: camera.producerId,
      transportId: erin.transportId,
      receiver,
    });

    const state = room.getState();
    expect(state.routers.map((r) => r.workerIndex).sort()).toEqual([0, 1]);
    expect(state.pipes).toEqual([`${camera.producerId}->${dave.joined.routerId}`]);
    expect(state.currentWorkerIndex).toBe(other);
    // alice's worker: bob, carol and the one pipe consumer; the other: dave and erin.
    expect(pool.worker(home)?.consumers).toBe(3);
    expect(pool.worker(other)?.consumers).toBe(2);

    camera.sender.start();
    const ssrcs = [bobCamera.ssrc, carolCamera.ssrc, daveCamera.ssrc, erinCamera.ssrc];
    await waitFor(
      () => ssrcs.every((ssrc) => receiver.received(ssrc) >= 150),
      10_000,
      () => ssrcs.map((s) => receiver.received(s)).join(', '),
    );
    expect(receiver.stats(daveCamera.ssrc).lost).toBe(0);
    expect(receiver.stats(erinCamera.ssrc).lost).toBe(0);

    // The other way: dave's mic on the second worker, consumed by bob on alice's worker.
    const daveMic = await createRtpProducer(room, 'dave', { source: 'mic', audioLevelDbov: 20 });
    cleanups.push(() => daveMic.sender.close());
    const bobMic = await consumeRtp(room, 'bob', {
      producerId: daveMic.producerId,
      transportId: bob.transportId,
      receiver,
    });
    daveMic.sender.start();
    await waitFor(
      () => receiver.received(bobMic.ssrc) >= 50,
      5_000,
      () => `bob got ${receiver.received(bobMic.ssrc)} of dave's mic`,
    );
    expect(room.getState().pipes).toContain(`${daveMic.producerId}->${alice.routerId}`);
  });

  it('carries producer pause and close through the pipe', async () => {
    const room = await pool.getOrCreateRoom(`room-${randomUUID()}`);
    const receiver = await RtpReceiver.open();
    cleanups.push(() => {
      receiver.close();
      room.close();
    });
    const closed: ConsumerClosedEvent[] = [];
    room.on('consumerClosed', (event) => closed.push(event));
    await room.addPeer('alice');
    const camera = await createRtpProducer(room, 'alice', {
      source: 'camera',
      packetsPerSecond: 100,
      keyFrameIntervalMs: 200,
    });
    cleanups.push(() => camera.sender.close());
    const viewers = [];
    for (const peerId of ['bob', 'carol', 'dave']) {
      const { joined, transportId } = await viewer(room, peerId, receiver);
      viewers.push({
        joined,
        consumer: await consumeRtp(room, peerId, { producerId: camera.producerId, transportId, receiver }),
      });
    }
    const remote = viewers.find(
      (v) => v.joined.routerId !== room.getState().routers.find((r) => r.peerIds.includes('alice'))?.routerId,
    );
    if (!remote) throw new Error('no viewer was placed on the second worker');
    const ssrc = remote.consumer.ssrc;
    camera.sender.start();
    await waitFor(
      () => receiver.received(ssrc) >= 30,
      5_000,
      () => `remote viewer got ${receiver.received(ssrc)}`,
    );

    await room.pauseProducer('alice', camera.producerId);
    await sleep(200);
    const paused = receiver.received(ssrc);
    await sleep(600);
    expect(receiver.received(ssrc)).toBe(paused);
    await room.resumeProducer('alice', camera.producerId);
    await waitFor(
      () => receiver.received(ssrc) >= paused + 30,
      5_000,
      () => `remote viewer got ${receiver.received(ssrc) - paused} since resume`,
    );

    room.closeProducer('alice', camera.producerId);
    await waitFor(
      () => closed.length === 3,
      3_000,
      () => `${closed.length} consumerClosed events`,
    );
    expect(closed.every((e) => e.reason === 'producer-closed')).toBe(true);
    expect(room.getState().pipes).toEqual([]);
  });

  it('keeps one active speaker for the whole room, fed through the pipe', async () => {
    const room = await pool.getOrCreateRoom(`room-${randomUUID()}`);
    cleanups.push(() => room.close());
    const speakers: ActiveSpeakerChangedEvent[] = [];
    room.on('activeSpeakerChanged', (event) => speakers.push(event));
    const receiver = await RtpReceiver.open();
    cleanups.push(() => receiver.close());
    // Fill the first worker so that dave lands on the second one.
    await room.addPeer('alice');
    const aliceMic = await createRtpProducer(room, 'alice', { source: 'mic', audioLevelDbov: 127 });
    cleanups.push(() => aliceMic.sender.close());
    for (const peerId of ['bob', 'carol']) {
      const { transportId } = await viewer(room, peerId, receiver);
      await consumeRtp(room, peerId, { producerId: aliceMic.producerId, transportId, receiver });
    }
    const dave = await room.addPeer('dave');
    const speakerRouter = room.getState().routers.find((r) => r.activeSpeaker);
    expect(speakerRouter?.routerId).not.toBe(dave.routerId);
    const daveMic = await createRtpProducer(room, 'dave', { source: 'mic', audioLevelDbov: 10 });
    cleanups.push(() => daveMic.sender.close());
    aliceMic.sender.start();
    daveMic.sender.start();
    await waitFor(
      () => speakers.at(-1)?.peerId === 'dave',
      15_000,
      () => `speakers ${JSON.stringify(speakers)}`,
    );
    expect(room.getState().pipes).toContain(`${daveMic.producerId}->${speakerRouter?.routerId}`);
  });
});
