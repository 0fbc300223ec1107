/**
 * The Room API signaling uses, against a real worker: WebRtcTransports on the WebRtcServer,
 * produce/consume rules, simulcast layers and the active speaker.
 */
import { randomUUID } from 'node:crypto';
import { isAppError } from '@quorum/domain';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WEBRTC_TRANSPORTS_PER_PEER, type Room } from './room';
import {
  RtpReceiver,
  consumeRtp,
  createRtpProducer,
  createRtpReceiveTransport,
  opusRtpParameters,
  randomSsrc,
  requireMediasoupWorkerBin,
  testLogger,
  waitFor,
  type RtpProducer,
} from './testing';
import type {
  ActiveSpeakerChangedEvent,
  ConsumerLayersChangedEvent,
  NewProducerEvent,
  ProducerLayersWantedEvent,
} from './types';
import { WorkerPool } from './worker-pool';

let pool: WorkerPool;
// Long enough that "told at once" (within half of it) and "told after it" stay apart on a busy machine.
const LOWER_AFTER_MS = 1_000;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  requireMediasoupWorkerBin();
  pool = await WorkerPool.create({
    logger: testLogger(),
    workerCount: 1,
    webRtcServerBasePort: 'auto',
    layersLowerAfterMs: LOWER_AFTER_MS,
  });
});

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

afterAll(() => pool?.close());

async function newRoom(): Promise<Room> {
  const room = await pool.getOrCreateRoom(`room-${randomUUID()}`);
  cleanups.push(() => room.close());
  return room;
}

function track<T extends { sender: { close(): void } }>(value: T): T {
  cleanups.push(() => value.sender.close());
  return value;
}

async function expectAppError(
  promise: Promise<unknown> | (() => unknown),
  code: string,
  reason: string,
): Promise<void> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    expect(isAppError(err), String(err)).toBe(true);
    expect(err).toMatchObject({ code, reason });
    return;
  }
  throw new Error(`expected ${code} ${reason}, nothing was thrown`);
}

const FAKE_DTLS = {
  role: 'client' as const,
  fingerprints: [
    {
      algorithm: 'sha-256',
      value: Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(':'),
    },
  ],
};

describe('Room', () => {
  it('shares one room per meeting id and hands out the router capabilities', async () => {
    const id = `room-${randomUUID()}`;
    const [a, b] = await Promise.all([pool.getOrCreateRoom(id), pool.getOrCreateRoom(id)]);
    cleanups.push(() => a.close());
    expect(a).toBe(b);
    expect(a.rtpCapabilities.codecs?.map((c) => c.mimeType)).toEqual(
      expect.arrayContaining(['audio/opus', 'video/VP8']),
    );
    const joined = await a.addPeer('alice');
    expect(joined).toMatchObject({ roomId: id, peerId: 'alice', workerIndex: 0 });
    await expectAppError(a.addPeer('alice'), 'CONFLICT', 'sfu.peer_exists');
    a.close();
    expect(pool.getRoom(id)).toBeUndefined();
    await expectAppError(a.addPeer('bob'), 'PRECONDITION_FAILED', 'sfu.room_closed');
  });

  it('creates WebRtcTransports on the worker WebRtcServer, connects them and restarts ICE', async () => {
    const room = await newRoom();
    await room.addPeer('alice');
    const send = await room.createWebRtcTransport('alice', { direction: 'send' });
    const recv = await room.createWebRtcTransport('alice', { direction: 'recv' });
    const port = pool.getState().workers[0]?.webRtcServerPort;
    expect(send.iceCandidates.map((c) => [c.ip, c.protocol, c.port]).sort()).toEqual([
      ['127.0.0.1', 'tcp', port],
      ['127.0.0.1', 'udp', port],
    ]);
    expect(recv.iceCandidates.map((c) => c.port)).toEqual([port, port]);
    expect(send.dtlsParameters.fingerprints.length).toBeGreaterThan(0);

    await room.connectWebRtcTransport('alice', send.transportId, FAKE_DTLS);
    const ice = await room.restartIce('alice', send.transportId);
    expect(ice.usernameFragment).not.toBe(send.iceParameters.usernameFragment);
    expect(room.getPeerState('alice').transports.map((t) => [t.transportId, t.type, t.direction])).toEqual([
      [send.transportId, 'webrtc', 'send'],
      [recv.transportId, 'webrtc', 'recv'],
    ]);

    room.closeTransport('alice', send.transportId);
    expect(room.getPeerState('alice').transports.map((t) => t.transportId)).toEqual([recv.transportId]);
    await expectAppError(room.restartIce('alice', send.transportId), 'NOT_FOUND', 'sfu.transport_not_found');
  });

  it(`refuses a participant more than ${MAX_WEBRTC_TRANSPORTS_PER_PEER} open WebRtcTransports, and takes one again once one is closed`, async () => {
    const room = await newRoom();
    await room.addPeer('greedy');
    const made = [];
    for (let i = 0; i < MAX_WEBRTC_TRANSPORTS_PER_PEER; i++)
      made.push(await room.createWebRtcTransport('greedy', { direction: i % 2 === 0 ? 'send' : 'recv' }));
    await expectAppError(
      room.createWebRtcTransport('greedy', { direction: 'send' }),
      'PRECONDITION_FAILED',
      'sfu.too_many_transports',
    );
    // Another participant is not limited by it.
    await room.addPeer('other');
    await room.createWebRtcTransport('other', { direction: 'send' });
    room.closeTransport('greedy', made[0]!.transportId);
    await room.createWebRtcTransport('greedy', { direction: 'send' });
  });

  it('enforces direction, source/kind and one producer per source', async () => {
    const room = await newRoom();
    await room.addPeer('alice');
    const send = await room.createWebRtcTransport('alice', { direction: 'send' });
    const recv = await room.createWebRtcTransport('alice', { direction: 'recv' });
    const mic = (transportId: string) => ({
      transportId,
      kind: 'audio' as const,
      source: 'mic' as const,
      rtpParameters: opusRtpParameters(randomSsrc()),
    });

    await expectAppError(room.produce('alice', mic(recv.transportId)), 'BAD_REQUEST', 'sfu.wrong_direction');
    await expectAppError(
      room.produce('alice', { ...mic(send.transportId), source: 'camera' }),
      'BAD_REQUEST',
      'sfu.source_kind_mismatch',
    );
    const events: NewProducerEvent[] = [];
    room.on('newProducer', (event) => events.push(event));
    const produced = await room.produce('alice', mic(send.transportId));
    expect(produced).toMatchObject({ peerId: 'alice', kind: 'audio', source: 'mic', type: 'simple', paused: false });
    expect(events).toEqual([{ roomId: room.id, producer: produced }]);
    await expectAppError(room.produce('alice', mic(send.transportId)), 'CONFLICT', 'sfu.source_in_use');
    await expectAppError(room.produce('nobody', mic(send.transportId)), 'NOT_FOUND', 'sfu.peer_not_found');
  });

  it('consumes on the latest recv WebRtcTransport, paused, and refuses what the capabilities cannot take', async () => {
    const room = await newRoom();
    await room.addPeer('alice');
    await room.addPeer('bob', { rtpCapabilities: room.rtpCapabilities });
    const send = await room.createWebRtcTransport('alice', { direction: 'send' });
    const mic = await room.produce('alice', {
      transportId: send.transportId,
      kind: 'audio',
      source: 'mic',
      rtpParameters: opusRtpParameters(randomSsrc()),
    });

    await expectAppError(
      room.consume('bob', { producerId: mic.producerId }),
      'PRECONDITION_FAILED',
      'sfu.no_recv_transport',
    );
    const recv = await room.createWebRtcTransport('bob', { direction: 'recv' });
    const consumer = await room.consume('bob', { producerId: mic.producerId });
    expect(consumer).toMatchObject({
      producerId: mic.producerId,
      producerPeerId: 'alice',
      kind: 'audio',
      source: 'mic',
      type: 'simple',
      producerPaused: false,
    });
    expect(room.getPeerState('bob').transports).toMatchObject([
      { transportId: recv.transportId, consumerIds: [consumer.consumerId] },
    ]);
    expect(pool.getState().workers[0]?.consumers).toBeGreaterThanOrEqual(1);

    const videoOnly = {
      ...room.rtpCapabilities,
      codecs: room.rtpCapabilities.codecs?.filter((c) => c.kind === 'video') ?? [],
    };
    await expectAppError(
      room.consume('bob', { producerId: mic.producerId, rtpCapabilities: videoOnly }),
      'PRECONDITION_FAILED',
      'sfu.cannot_consume',
    );
    await expectAppError(
      room.consume('bob', { producerId: 'no-such-producer' }),
      'NOT_FOUND',
      'sfu.producer_not_found',
    );
    await expectAppError(
      room.setConsumerPreferredLayers('bob', consumer.consumerId, { spatialLayer: 0 }),
      'BAD_REQUEST',
      'sfu.not_simulcast',
    );
  });

  it('forwards VP8 simulcast and switches layers on setConsumerPreferredLayers', async () => {
    const room = await newRoom();
    const receiver = await RtpReceiver.open();
    cleanups.push(() => receiver.close());
    await room.addPeer('alice');
    await room.addPeer('bob');
    const camera = track(
      await createRtpProducer(room, 'alice', {
        source: 'camera',
        ssrcs: [randomSsrc(), randomSsrc(), randomSsrc()],
        packetsPerSecond: 60,
        payloadSize: 400,
        keyFrameIntervalMs: 250,
      }),
    );
    expect(room.listProducers()).toMatchObject([{ producerId: camera.producerId, type: 'simulcast' }]);
    const layers: ConsumerLayersChangedEvent[] = [];
    room.on('consumerLayersChanged', (event) => layers.push(event));
    const transportId = await createRtpReceiveTransport(room, 'bob', receiver);
    const bob = await consumeRtp(room, 'bob', { producerId: camera.producerId, transportId, receiver });
    expect(bob.type).toBe('simulcast');
    camera.sender.start();

    await waitFor(
      () => room.getConsumerLayers('bob', bob.consumerId)?.spatialLayer === 2,
      10_000,
      () => `layers ${JSON.stringify(layers)}`,
    );
    await room.setConsumerPreferredLayers('bob', bob.consumerId, { spatialLayer: 0, temporalLayer: 0 });
    await waitFor(
      () => layers.some((e) => e.layers?.spatialLayer === 0),
      10_000,
      () => `layers ${JSON.stringify(layers)}`,
    );
    expect(layers.every((e) => e.peerId === 'bob' && e.consumerId === bob.consumerId)).toBe(true);
    const before = receiver.received(bob.ssrc);
    await waitFor(
      () => receiver.received(bob.ssrc) > before + 20,
      5_000,
      () => 'nothing arrived on the lowest layer',
    );
  });

  it('starts a simulcast consumer at the layers asked for in consume(), never passing through a higher one', async () => {
    const room = await newRoom();
    const receiver = await RtpReceiver.open();
    cleanups.push(() => receiver.close());
    await room.addPeer('alice');
    await room.addPeer('bob');
    const camera = track(
      await createRtpProducer(room, 'alice', {
        source: 'camera',
        ssrcs: [randomSsrc(), randomSsrc(), randomSsrc()],
        packetsPerSecond: 60,
        payloadSize: 400,
        keyFrameIntervalMs: 250,
      }),
    );
    const layers: ConsumerLayersChangedEvent[] = [];
    room.on('consumerLayersChanged', (event) => layers.push(event));
    const transportId = await createRtpReceiveTransport(room, 'bob', receiver);
    const bob = await consumeRtp(room, 'bob', {
      producerId: camera.producerId,
      transportId,
      receiver,
      preferredLayers: { spatialLayer: 0, temporalLayer: 0 },
    });
    camera.sender.start();

    await waitFor(
      () => room.getConsumerLayers('bob', bob.consumerId)?.spatialLayer === 0,
      10_000,
      () => `layers ${JSON.stringify(layers)}`,
    );
    await waitFor(
      () => receiver.received(bob.ssrc) > 20,
      5_000,
      () => 'nothing arrived on the lowest layer',
    );
    expect(layers.map((e) => e.layers?.spatialLayer).filter((l) => l !== undefined && l > 0)).toEqual([]);
  });

  it("tells a simulcast camera's owner the highest layer its resumed consumers want: a rise at once, a fall after a wait", async () => {
    const room = await newRoom();
    for (const peer of ['alice', 'bob', 'carol']) await room.addPeer(peer);
    const camera = track(
      await createRtpProducer(room, 'alice', {
        source: 'camera',
        ssrcs: [randomSsrc(), randomSsrc(), randomSsrc()],
        packetsPerSecond: 30,
      }),
    );
    const wanted: ProducerLayersWantedEvent[] = [];
    room.on('producerLayersWanted', (event) => wanted.push(event));
    const consumer = async (peer: string, spatialLayer: number) => {
      const receiver = await RtpReceiver.open();
      cleanups.push(() => receiver.close());
      const transportId = await createRtpReceiveTransport(room, peer, receiver);
      return consumeRtp(room, peer, {
        producerId: camera.producerId,
        transportId,
        receiver,
        preferredLayers: { spatialLayer, temporalLayer: 2 },
      });
    };

    // Bob shows a small tile: alice is told to send the lowest layer only, after the wait.
    await consumer('bob', 0);
    await waitFor(
      () => wanted.length === 1,
      5_000,
      () => `wanted ${JSON.stringify(wanted)}`,
    );
    expect(wanted[0]).toEqual({ roomId: room.id, peerId: 'alice', producerId: camera.producerId, spatialLayer: 0 });

    // Carol pins alice full size: told at once.
    const carol = await consumer('carol', 2);
    await waitFor(
      () => wanted.length === 2,
      LOWER_AFTER_MS / 2,
      () => `wanted ${JSON.stringify(wanted)}`,
    );
    expect(wanted[1]!.spatialLayer).toBe(2);

    // Carol shrinks the tile: a fall is told only once it has lasted.
    const lowered = Date.now();
    await room.setConsumerPreferredLayers('carol', carol.consumerId, { spatialLayer: 1, temporalLayer: 2 });
    await waitFor(
      () => wanted.length === 3,
      5_000,
      () => `wanted ${JSON.stringify(wanted)}`,
    );
    expect(wanted[2]!.spatialLayer).toBe(1);
    expect(Date.now() - lowered).toBeGreaterThanOrEqual(LOWER_AFTER_MS - 50);

    // A paused consumer wants nothing: back to bob's layer.
    await room.pauseConsumer('carol', carol.consumerId);
    await waitFor(
      () => wanted.length === 4,
      5_000,
      () => `wanted ${JSON.stringify(wanted)}`,
    );
    expect(wanted[3]!.spatialLayer).toBe(0);
    // A rise cancels a fall still waiting.
    await room.resumeConsumer('carol', carol.consumerId);
    await room.pauseConsumer('carol', carol.consumerId);
    await room.resumeConsumer('carol', carol.consumerId);
    await new Promise((resolve) => setTimeout(resolve, LOWER_AFTER_MS * 2));
    expect(wanted.slice(4).map((e) => e.spatialLayer)).toEqual([1]);
  });

  it('names the loudest mic as the active speaker', async () => {
    const room = await newRoom();
    const speakers: ActiveSpeakerChangedEvent[] = [];
    room.on('activeSpeakerChanged', (event) => speakers.push(event));
    await room.addPeer('alice');
    await room.addPeer('bob');
    const alice = track<RtpProducer>(await createRtpProducer(room, 'alice', { source: 'mic', audioLevelDbov: 127 }));
    const bob = track<RtpProducer>(await createRtpProducer(room, 'bob', { source: 'mic', audioLevelDbov: 10 }));
    alice.sender.start();
    bob.sender.start();
    await waitFor(
      () => speakers.at(-1)?.peerId === 'bob',
      15_000,
      () => `speakers ${JSON.stringify(speakers)}`,
    );
    expect(speakers.at(-1)).toEqual({ roomId: room.id, peerId: 'bob', producerId: bob.producerId });

    bob.sender.setAudioLevel(127);
    alice.sender.setAudioLevel(10);
    await waitFor(
      () => speakers.at(-1)?.peerId === 'alice',
      15_000,
      () => `speakers ${JSON.stringify(speakers)}`,
    );
  });
});
