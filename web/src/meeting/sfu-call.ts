/**
 * The meeting through the SFU (the `sfu` mode), with mediasoup-client: load a Device with the
 * room's router capabilities, give the server ours, then a receive transport that consumes
 * every producer of the others (each consumer starts paused on the server and is resumed once
 * ours exists) and a send transport that produces the microphone, the camera (VP8, three
 * simulcast layers) and the screen when shared. Receiving comes first so a joiner sees the
 * others as soon as possible. A transport whose connection fails (or stays disconnected)
 * restarts ICE with fresh parameters from the server.
 */
import type { MediaSource, ProducerInfo, RequestData, RequestMethod, ResponseData } from '@quorum/signaling';
import { Device, type types as ms } from 'mediasoup-client';
import { mediaEngine } from './media-engine';
import { layersFor, type Layers, type RemoteMedia } from './room-state';
import type { Sending } from './p2p-call';

export type Requester = <M extends RequestMethod>(method: M, data: RequestData<M>) => Promise<ResponseData[M]>;

export interface SfuCallOptions {
  request: Requester;
  iceServers: RTCIceServer[];
  /** What to send now, by source (null: nothing, or paused). */
  sending: Sending;
  onRemoteTrack: (media: RemoteMedia<MediaStreamTrack>) => void;
  onRemoteGone: (producerId: string) => void;
  onConnectionState?: (direction: 'send' | 'recv', state: ms.ConnectionState) => void;
  /** Steps of setting up, for the join timeline. */
  onStep?: (step: SfuStep) => void;
}

/** Steps of an SFU call's set-up that the join timeline records (the first time each happens). */
export type SfuStep = 'deviceLoaded' | 'videoConsumeAnswered' | 'videoConsumerCreated' | 'videoResumed';

/** The camera's simulcast layers (as mediasoup-demo): a quarter, a half and full resolution. */
export const CAMERA_ENCODINGS: RTCRtpEncodingParameters[] = [
  { scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: 'L1T3' } as RTCRtpEncodingParameters,
  { scaleResolutionDownBy: 2, maxBitrate: 500_000, scalabilityMode: 'L1T3' } as RTCRtpEncodingParameters,
  { scaleResolutionDownBy: 1, maxBitrate: 1_200_000, scalabilityMode: 'L1T3' } as RTCRtpEncodingParameters,
];
const SCREEN_ENCODINGS: RTCRtpEncodingParameters[] = [{ maxBitrate: 1_500_000 }];
const KIND: Record<MediaSource, 'audio' | 'video'> = { mic: 'audio', camera: 'video', screen: 'video' };
const DISCONNECTED_GRACE_MS = 2_500;

export class SfuCall {
  private device: Device | undefined;
  private sendTransport: ms.Transport | undefined;
  private recvTransport: ms.Transport | undefined;
  private readonly producers = new Map<MediaSource, ms.Producer>();
  /** Producers being created, so a toggle during `produce` does not produce twice. */
  private readonly producing = new Map<MediaSource, Promise<void>>();
  /** Consumers by producer id. */
  private readonly consumers = new Map<string, ms.Consumer>();
  /** Producers being consumed (by id), so a camera counts towards the layer before its consumer exists. */
  private readonly consuming = new Map<string, ProducerInfo>();
  /** Producers closed (or their owner gone) before their consumer existed. */
  private readonly gone = new Set<string>();
  private readonly sending: Sending;
  private recvReady: Promise<void> | undefined;
  private closed = false;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly options: SfuCallOptions) {
    this.sending = { ...options.sending };
  }

  /**
   * Sets up both transports, consumes `producers` (and those announced meanwhile), then
   * produces. The server answers one socket's requests in order, so requests that do not need
   * an earlier answer are sent without waiting for it (pipelined): the capabilities and both
   * transports at once, then our capabilities followed at once by every `consume`. A joiner
   * waits for two round trips before consuming instead of five.
   */
  async start(producers: ProducerInfo[]): Promise<void> {
    const { request } = this.options;
    const caps = request('getRouterRtpCapabilities', {});
    const recvParams = request('createWebRtcTransport', { direction: 'recv' });
    const sendParams = request('createWebRtcTransport', { direction: 'send' });
    let capsSet: Promise<unknown> = Promise.resolve();
    this.recvReady = (async () => {
      const handlerFactory = mediaEngine();
      const device = handlerFactory ? new Device({ handlerFactory }) : new Device();
      await device.load({ routerRtpCapabilities: (await caps).rtpCapabilities as unknown as ms.RtpCapabilities });
      this.device = device;
      this.options.onStep?.('deviceLoaded');
      this.assertOpen();
      // Sent, not awaited: the consumes queued behind it on the server find our capabilities set.
      capsSet = request('setRtpCapabilities', {
        rtpCapabilities: device.recvRtpCapabilities as unknown as Record<string, unknown>,
      });
      this.recvTransport = this.createTransport('recv', await recvParams);
    })();
    try {
      await this.recvReady;
      // Videos first: seeing someone is what a joiner waits for.
      const videoFirst = [...producers].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'video' ? -1 : 1));
      await Promise.all([capsSet, ...videoFirst.map((p) => this.consume(p))]);
      this.sendTransport = this.createTransport('send', await sendParams);
    } finally {
      // After an early failure the later answers are rejections nobody awaits; start() already
      // rejects with the first one, so these are only settled here.
      await Promise.allSettled([recvParams, sendParams, capsSet]);
    }
    await Promise.all(
      (['mic', 'camera', 'screen'] as const).map((source) => this.setSending(source, this.sending[source])),
    );
  }

  /** Consumes a producer of someone else (once the receive transport exists); idempotent. */
  async consume(info: ProducerInfo): Promise<void> {
    if (this.closed || this.consumers.has(info.producerId) || this.consuming.has(info.producerId)) return;
    this.consuming.set(info.producerId, info);
    this.gone.delete(info.producerId);
    try {
      await this.recvReady;
      const transport = this.recvTransport;
      if (!transport || this.closed) return;
      // A camera starts at the layer that suits every camera about to be shown, those being
      // consumed alongside it included: no switch (and key frame) once the others arrive.
      const layers = info.source === 'camera' ? layersFor(this.camerasShown()) : undefined;
      const answer = await this.options.request('consume', { producerId: info.producerId, ...layers });
      if (this.closed || this.gone.has(info.producerId)) return;
      if (answer.kind === 'video') this.options.onStep?.('videoConsumeAnswered');
      const consumer = await transport.consume({
        id: answer.consumerId,
        producerId: answer.producerId,
        kind: answer.kind,
        rtpParameters: answer.rtpParameters as unknown as ms.RtpParameters,
        // The microphone and camera of one person share a stream (lip sync); a screen is its own.
        streamId: `${answer.peerId}-${answer.source === 'screen' ? 'screen' : 'av'}`,
        // The SFU starts a consumer at the layers asked for, else at the highest it can.
        appData: {
          peerId: answer.peerId,
          source: answer.source,
          layers: layers ?? { spatialLayer: 2, temporalLayer: 2 },
        },
      });
      if (this.closed || this.gone.has(info.producerId)) {
        consumer.close();
        return;
      }
      this.consumers.set(info.producerId, consumer);
      if (answer.kind === 'video') this.options.onStep?.('videoConsumerCreated');
      if (answer.source === 'camera') await this.preferLayers(consumer);
      await this.options.request('resumeConsumer', { consumerId: consumer.id });
      if (answer.kind === 'video') this.options.onStep?.('videoResumed');
      if (answer.source === 'camera') void this.rebalanceLayers();
      this.options.onRemoteTrack({
        key: info.producerId,
        peerId: answer.peerId,
        source: answer.source,
        kind: answer.kind,
        track: consumer.track,
        paused: answer.producerPaused,
      });
    } catch (err) {
      // The producer closed or its owner left while we asked: nothing to show.
      if (!this.closed) console.warn(`sfu: could not consume producer ${info.producerId}`, err);
    } finally {
      this.consuming.delete(info.producerId);
    }
  }

  /** A producer of someone else closed (`producerClosed` / `consumerClosed`). */
  producerClosed(producerId: string): void {
    this.gone.add(producerId);
    const consumer = this.consumers.get(producerId);
    if (!consumer) return;
    this.consumers.delete(producerId);
    consumer.close();
    this.options.onRemoteGone(producerId);
    if (consumer.appData.source === 'camera') void this.rebalanceLayers();
  }

  /**
   * The SFU says no receiver wants a layer of this camera above `spatialLayer` now: stop
   * encoding those (they start again when it says more).
   */
  limitLayers(producerId: string, spatialLayer: number): void {
    const producer = [...this.producers.values()].find((p) => p.id === producerId);
    if (!producer || producer.closed || producer.kind !== 'video') return;
    producer.setMaxSpatialLayer(spatialLayer).catch((err: unknown) => console.warn('setMaxSpatialLayer failed', err));
  }

  consumerClosed(consumerId: string): void {
    for (const [producerId, consumer] of this.consumers)
      if (consumer.id === consumerId) this.producerClosed(producerId);
  }

  peerLeft(peerId: string): void {
    for (const [producerId, consumer] of this.consumers)
      if (consumer.appData.peerId === peerId) this.producerClosed(producerId);
  }

  /**
   * Sends `track` for `source`, or stops (null): the microphone and camera pause and resume
   * their producer; the screen's producer is closed when the share stops.
   */
  async setSending(source: MediaSource, track: MediaStreamTrack | null): Promise<void> {
    this.sending[source] = track;
    if (!this.sendTransport || this.closed) return;
    await this.producing.get(source);
    const producer = this.producers.get(source);
    if (!track) {
      if (!producer) return;
      if (source === 'screen') {
        this.producers.delete(source);
        producer.close();
        await this.options.request('closeProducer', { producerId: producer.id });
      } else if (!producer.paused) {
        producer.pause();
        await this.options.request('pauseProducer', { producerId: producer.id });
      }
      return;
    }
    if (producer) {
      if (producer.track !== track) await producer.replaceTrack({ track });
      if (producer.paused) {
        producer.resume();
        await this.options.request('resumeProducer', { producerId: producer.id });
      }
      return;
    }
    const producing = this.produce(source, track);
    this.producing.set(source, producing);
    try {
      await producing;
    } finally {
      this.producing.delete(source);
    }
    // The source may have been turned off while it was being produced.
    if (this.sending[source] !== track) await this.setSending(source, this.sending[source]);
  }

  /** Cameras shown or about to be: consumed, and being consumed. */
  private camerasShown(): number {
    let cameras = 0;
    for (const c of this.consumers.values()) if (c.appData.source === 'camera') cameras++;
    for (const [producerId, info] of this.consuming)
      if (info.source === 'camera' && !this.consumers.has(producerId)) cameras++;
    return cameras;
  }

  /** Asks the SFU for the simulcast layers that suit the number of cameras shown (see `layersFor`). */
  private async preferLayers(consumer: ms.Consumer): Promise<void> {
    const layers = layersFor(this.camerasShown());
    const current = consumer.appData.layers as Layers;
    if (
      (current.spatialLayer === layers.spatialLayer && current.temporalLayer === layers.temporalLayer) ||
      consumer.closed
    )
      return;
    // Set first so that concurrent rebalances do not ask twice.
    consumer.appData.layers = layers;
    try {
      await this.options.request('setPreferredLayers', { consumerId: consumer.id, ...layers });
    } catch (err) {
      // Closed meanwhile, or a consumer without layers: it keeps what the SFU gives it.
      if (!this.closed && !consumer.closed) console.warn('sfu: could not set preferred layers', err);
    }
  }

  private async rebalanceLayers(): Promise<void> {
    for (const consumer of this.consumers.values())
      if (consumer.appData.source === 'camera') await this.preferLayers(consumer);
  }

  /** Frames decoded per remote video, for the debug hook and tests. */
  async videoStats(): Promise<Array<{ peerId: string; source: MediaSource; framesDecoded: number }>> {
    const out: Array<{ peerId: string; source: MediaSource; framesDecoded: number }> = [];
    for (const consumer of this.consumers.values()) {
      if (consumer.kind !== 'video' || consumer.closed) continue;
      let framesDecoded = 0;
      (await consumer.getStats()).forEach((s: { type: string; framesDecoded?: number }) => {
        if (s.type === 'inbound-rtp') framesDecoded = Math.max(framesDecoded, s.framesDecoded ?? 0);
      });
      out.push({
        peerId: String(consumer.appData.peerId),
        source: consumer.appData.source as MediaSource,
        framesDecoded,
      });
    }
    return out;
  }

  /** The transports, for the debug hook. */
  get transports(): ms.Transport[] {
    return [this.sendTransport, this.recvTransport].filter((t): t is ms.Transport => t !== undefined);
  }

  /** Closes both transports (and so every producer and consumer); the local tracks stay. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.producers.clear();
    this.consumers.clear();
  }

  private async produce(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    const transport = this.sendTransport;
    if (!transport || !this.device?.canProduce(KIND[source])) return;
    const producer = await transport.produce({
      track,
      // Our tracks outlive the producer (a rejoin, the move to the SFU): never stop them here.
      stopTracks: false,
      appData: { source },
      ...(source === 'camera' ? { encodings: CAMERA_ENCODINGS, codecOptions: { videoGoogleStartBitrate: 1000 } } : {}),
      ...(source === 'screen' ? { encodings: SCREEN_ENCODINGS } : {}),
      ...(source === 'mic' ? { codecOptions: { opusStereo: false, opusDtx: true, opusFec: true } } : {}),
    });
    if (this.closed) {
      producer.close();
      return;
    }
    this.producers.set(source, producer);
  }

  private createTransport(direction: 'send' | 'recv', params: ResponseData['createWebRtcTransport']): ms.Transport {
    const { request } = this.options;
    this.assertOpen();
    const device = this.device!;
    const options: ms.TransportOptions = {
      id: params.transportId,
      iceParameters: params.iceParameters as unknown as ms.IceParameters,
      iceCandidates: params.iceCandidates as ms.IceCandidate[],
      dtlsParameters: params.dtlsParameters as unknown as ms.DtlsParameters,
      iceServers: this.options.iceServers,
    };
    const transport = direction === 'send' ? device.createSendTransport(options) : device.createRecvTransport(options);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      request('connectWebRtcTransport', {
        transportId: transport.id,
        dtlsParameters: dtlsParameters as unknown as Record<string, unknown>,
      }).then(() => callback(), errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        const source = appData.source as MediaSource;
        request('produce', {
          transportId: transport.id,
          kind,
          rtpParameters: rtpParameters as unknown as Record<string, unknown>,
          source,
        }).then(({ producerId }) => callback({ id: producerId }), errback);
      });
    }
    let disconnected: ReturnType<typeof setTimeout> | undefined;
    transport.on('connectionstatechange', (state) => {
      this.options.onConnectionState?.(direction, state);
      if (disconnected) {
        clearTimeout(disconnected);
        this.timers.delete(disconnected);
        disconnected = undefined;
      }
      if (state === 'failed') void this.restartIce(transport);
      if (state === 'disconnected') {
        disconnected = setTimeout(() => {
          if (transport.connectionState === 'disconnected') void this.restartIce(transport);
        }, DISCONNECTED_GRACE_MS);
        this.timers.add(disconnected);
      }
    });
    return transport;
  }

  private async restartIce(transport: ms.Transport): Promise<void> {
    if (this.closed || transport.closed) return;
    try {
      const { iceParameters } = await this.options.request('restartIce', { transportId: transport.id });
      if (!transport.closed)
        await transport.restartIce({ iceParameters: iceParameters as unknown as ms.IceParameters });
    } catch (err) {
      // The signaling socket is gone too: the meeting client rejoins, which builds new transports.
      console.warn('sfu: ICE restart failed', err);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the SFU call was closed');
  }
}
