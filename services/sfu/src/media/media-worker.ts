/**
 * One mediasoup worker process of the pool, with its WebRtcServer (one UDP and one TCP port on
 * the listen IP, shared by every WebRtcTransport of the worker) and its consumer count, which
 * is what the rooms' consumer budget is measured against.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { createWorker, type types as ms } from 'mediasoup';
import { MEDIA_CODECS } from './codecs';

export interface MediaWorkerSettings {
  logLevel: ms.WorkerLogLevel;
  rtcMinPort: number;
  rtcMaxPort: number;
  listenIp: string;
  announcedIp: string | undefined;
  /** The WebRtcServer port, or `auto` for a port found free on the listen IP (UDP and TCP). */
  webRtcServerPort: number | 'auto';
}

export class MediaWorker {
  private consumerCount = 0;
  private readonly routerSet = new Set<ms.Router>();

  private constructor(
    readonly index: number,
    readonly worker: ms.Worker,
    readonly webRtcServer: ms.WebRtcServer,
    readonly webRtcServerPort: number,
  ) {
    worker.observer.on('newrouter', (router) => this.track(router));
  }

  /** Spawns the worker process and opens its WebRtcServer; closes the worker again if that fails. */
  static async start(index: number, settings: MediaWorkerSettings): Promise<MediaWorker> {
    const worker = await createWorker({
      logLevel: settings.logLevel,
      rtcMinPort: settings.rtcMinPort,
      rtcMaxPort: settings.rtcMaxPort,
      appData: { workerIndex: index },
    });
    try {
      const port =
        settings.webRtcServerPort === 'auto' ? await findFreePort(settings.listenIp) : settings.webRtcServerPort;
      const listen = {
        ip: settings.listenIp,
        port,
        ...(settings.announcedIp ? { announcedIp: settings.announcedIp } : {}),
      };
      const webRtcServer = await worker.createWebRtcServer({
        listenInfos: [
          { protocol: 'udp', ...listen },
          { protocol: 'tcp', ...listen },
        ],
        appData: { workerIndex: index },
      });
      return new MediaWorker(index, worker, webRtcServer, port);
    } catch (err) {
      worker.close();
      throw err;
    }
  }

  get pid(): number {
    return this.worker.pid;
  }

  /** False once the process died or the worker was closed. */
  get alive(): boolean {
    return !this.worker.closed;
  }

  /** Every consumer on the worker, pipe consumers included. */
  get consumers(): number {
    return this.consumerCount;
  }

  get routers(): ReadonlySet<ms.Router> {
    return this.routerSet;
  }

  createRouter(appData: ms.AppData): Promise<ms.Router> {
    return this.worker.createRouter({ mediaCodecs: MEDIA_CODECS, appData });
  }

  getResourceUsage(): Promise<ms.WorkerResourceUsage> {
    return this.worker.getResourceUsage();
  }

  /** Idempotent. */
  close(): void {
    this.worker.close();
  }

  // Counted from mediasoup's observer events, which fire before createRouter(), createXTransport()
  // and consume() resolve, so the count is current when the caller continues.
  private track(router: ms.Router): void {
    this.routerSet.add(router);
    router.observer.once('close', () => this.routerSet.delete(router));
    router.observer.on('newtransport', (transport) => {
      transport.observer.on('newconsumer', (consumer) => {
        this.consumerCount++;
        consumer.observer.once('close', () => this.consumerCount--);
      });
    });
  }
}

/**
 * A port free for both UDP and TCP on `ip` right now (the OS picks it). Another process may take
 * it before the WebRtcServer binds it; then the worker start fails and the caller tries again.
 */
export async function findFreePort(ip: string, attempts = 20): Promise<number> {
  let lastError: Error | undefined;
  for (let i = 0; i < attempts; i++) {
    const udp = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    try {
      const port = await new Promise<number>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(0, ip, () => resolve(udp.address().port));
      });
      const server = net.createServer();
      const tcpFree = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, ip, () => resolve(true));
      });
      if (tcpFree) await new Promise<void>((resolve) => server.close(() => resolve()));
      if (tcpFree) return port;
    } catch (err) {
      lastError = err as Error;
    } finally {
      udp.close();
    }
  }
  throw new Error(`no port free for both UDP and TCP on ${ip} after ${attempts} attempts`, { cause: lastError });
}
