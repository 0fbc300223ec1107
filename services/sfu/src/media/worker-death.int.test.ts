/**
 * A worker process killed under live rooms: the pool replaces it, names the rooms and peers that
 * were on it, and the other worker keeps forwarding.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RtpReceiver,
  consumeRtp,
  createRtpProducer,
  createRtpReceiveTransport,
  requireMediasoupWorkerBin,
  testLogger,
  waitFor,
  type RtpProducer,
} from './testing';
import type { ConsumerClosedEvent, PeerLeftEvent, WorkerDiedEvent, WorkerReplacedEvent } from './types';
import { findFreePort } from './media-worker';
import { WorkerPool } from './worker-pool';

let pool: WorkerPool;
const senders: RtpProducer[] = [];
let receiver: RtpReceiver;

beforeAll(async () => {
  requireMediasoupWorkerBin();
  pool = await WorkerPool.create({
    logger: testLogger(),
    workerCount: 2,
    consumerBudgetPerWorker: 2,
    webRtcServerBasePort: 'auto',
  });
  receiver = await RtpReceiver.open();
});

afterAll(() => {
  for (const producer of senders) producer.sender.close();
  receiver?.close();
  pool?.close();
});

describe('worker death', () => {
  it('replaces a killed worker, names the affected room and peers, and keeps the other worker forwarding', async () => {
    // Room one: alice, bob and carol on worker 0 (bob and carol use up its budget), dave on worker 1.
    const one = await pool.getOrCreateRoom(`one-${randomUUID()}`);
    const oneLeft: PeerLeftEvent[] = [];
    const oneClosed: ConsumerClosedEvent[] = [];
    one.on('peerLeft', (event) => oneLeft.push(event));
    one.on('consumerClosed', (event) => oneClosed.push(event));
    const alice = await one.addPeer('alice');
    const aliceCamera = await createRtpProducer(one, 'alice', {
      source: 'camera',
      packetsPerSecond: 100,
      keyFrameIntervalMs: 200,
    });
    senders.push(aliceCamera);
    const consumers = new Map<string, { ssrc: number; consumerId: string; workerIndex: number }>();
    for (const peerId of ['bob', 'carol', 'dave']) {
      const joined = await one.addPeer(peerId);
      const transportId = await createRtpReceiveTransport(one, peerId, receiver);
      const consumer = await consumeRtp(one, peerId, { producerId: aliceCamera.producerId, transportId, receiver });
      consumers.set(peerId, { ssrc: consumer.ssrc, consumerId: consumer.consumerId, workerIndex: joined.workerIndex });
    }
    const doomed = alice.workerIndex;
    const survivor = 1 - doomed;
    expect([...consumers.values()].map((c) => c.workerIndex)).toEqual([doomed, doomed, survivor]);

    // Room two lives on the surviving worker only (the least loaded one when it is created).
    const two = await pool.getOrCreateRoom(`two-${randomUUID()}`);
    const erin = await two.addPeer('erin');
    expect(erin.workerIndex).toBe(survivor);
    const erinCamera = await createRtpProducer(two, 'erin', {
      source: 'camera',
      packetsPerSecond: 100,
      keyFrameIntervalMs: 200,
    });
    senders.push(erinCamera);
    await two.addPeer('frank');
    const frankTransport = await createRtpReceiveTransport(two, 'frank', receiver);
    const frank = await consumeRtp(two, 'frank', {
      producerId: erinCamera.producerId,
      transportId: frankTransport,
      receiver,
    });

    aliceCamera.sender.start();
    erinCamera.sender.start();
    const dave = consumers.get('dave');
    if (!dave) throw new Error('dave has no consumer');
    await waitFor(
      () => receiver.received(frank.ssrc) >= 30 && receiver.received(dave.ssrc) >= 30,
      5_000,
      () => 'RTP did not start',
    );

    const died = new Promise<WorkerDiedEvent>((resolve) => pool.once('workerDied', resolve));
    const replaced = new Promise<WorkerReplacedEvent>((resolve) => pool.once('workerReplaced', resolve));
    const victim = pool.worker(doomed);
    if (!victim) throw new Error(`worker ${doomed} is not alive`);
    const frankBefore = receiver.received(frank.ssrc);
    process.kill(victim.pid, 'SIGKILL');

    const death = await died;
    expect(death).toMatchObject({ workerIndex: doomed, pid: victim.pid });
    expect(death.rooms).toHaveLength(1);
    expect(death.rooms[0]?.roomId).toBe(one.id);
    expect(death.rooms[0]?.peerIds.sort()).toEqual(['alice', 'bob', 'carol']);
    expect(oneLeft.map((e) => [e.peerId, e.reason]).sort()).toEqual([
      ['alice', 'worker-died'],
      ['bob', 'worker-died'],
      ['carol', 'worker-died'],
    ]);
    expect(one.peerIds).toEqual(['dave']);
    expect(two.peerIds.sort()).toEqual(['erin', 'frank']);
    // dave's consumer of alice's camera went with alice's worker.
    await waitFor(
      () => oneClosed.some((e) => e.peerId === 'dave'),
      3_000,
      () => `consumerClosed: ${JSON.stringify(oneClosed)}`,
    );
    expect(oneClosed.find((e) => e.peerId === 'dave')).toMatchObject({
      consumerId: dave.consumerId,
      reason: 'producer-closed',
    });

    // Room two never stopped.
    await waitFor(
      () => receiver.received(frank.ssrc) >= frankBefore + 100,
      5_000,
      () => `frank got ${receiver.received(frank.ssrc) - frankBefore} since the kill`,
    );
    expect(receiver.stats(frank.ssrc).lost).toBe(0);

    const replacement = await replaced;
    expect(replacement.workerIndex).toBe(doomed);
    expect(replacement.previousPid).toBe(victim.pid);
    expect(replacement.pid).not.toBe(victim.pid);
    expect(
      pool
        .liveWorkers()
        .map((w) => w.index)
        .sort(),
    ).toEqual([0, 1]);
    expect(pool.worker(doomed)?.webRtcServer.closed).toBe(false);

    // The room carries on over the new worker: alice rejoins, produces again and dave receives it.
    // (room one moved its active speaker observer to the surviving router)
    expect(one.getState().routers.map((r) => r.activeSpeaker)).toEqual([true]);
    aliceCamera.sender.close();
    const rejoined = await one.addPeer('alice');
    const camera = await createRtpProducer(one, 'alice', {
      source: 'camera',
      packetsPerSecond: 100,
      keyFrameIntervalMs: 200,
    });
    senders.push(camera);
    const daveAgain = await consumeRtp(one, 'dave', {
      producerId: camera.producerId,
      transportId: one.getPeerState('dave').transports[0]?.transportId ?? '',
      receiver,
    });
    camera.sender.start();
    await waitFor(
      () => receiver.received(daveAgain.ssrc) >= 30,
      5_000,
      () => `dave got ${receiver.received(daveAgain.ssrc)} after alice rejoined on worker ${rejoined.workerIndex}`,
    );
  });

  it('gives the replacement the dead worker WebRtcServer port when ports are fixed', async () => {
    const port = await findFreePort('127.0.0.1');
    const fixed = await WorkerPool.create({
      logger: testLogger(),
      workerCount: 1,
      webRtcServerBasePort: port,
      rtcMinPort: 20_000,
      rtcMaxPort: 20_999,
    });
    try {
      const first = fixed.worker(0);
      expect(first?.webRtcServerPort).toBe(port);
      const replaced = new Promise<WorkerReplacedEvent>((resolve) => fixed.once('workerReplaced', resolve));
      process.kill(first?.pid ?? 0, 'SIGKILL');
      expect(await replaced).toMatchObject({ workerIndex: 0, webRtcServerPort: port });
      const room = await fixed.getOrCreateRoom(`room-${randomUUID()}`);
      await room.addPeer('alice');
      const transport = await room.createWebRtcTransport('alice', { direction: 'recv' });
      expect(transport.iceCandidates.map((c) => c.port)).toEqual([port, port]);
    } finally {
      fixed.close();
    }
  });
});
