/**
 * A UDP socket that receives what PlainTransport consumers send and counts it per SSRC (each
 * consumer has its own SSRC, so many consumers can share one socket), with sequence numbers
 * tracked for loss. RTCP on the same port (RFC 5761) is counted apart and otherwise ignored.
 */
import dgram from 'node:dgram';
import { isRtcp, parseRtpPacket, SequenceTracker } from './rtp-packet';

export interface RtpReceiverOptions {
  /** Default 127.0.0.1. */
  bindIp?: string;
  /** SO_RCVBUF to ask for (the kernel caps it at net.core.rmem_max). Default 4 MiB. */
  receiveBufferBytes?: number;
}

export interface SsrcStats {
  ssrc: number;
  received: number;
  /** From the first to the highest sequence number seen. */
  expected: number;
  lost: number;
  bytes: number;
  payloadType: number | undefined;
  lastArrival: number | undefined;
}

interface SsrcEntry {
  tracker: SequenceTracker;
  bytes: number;
  payloadType: number | undefined;
  lastArrival: number | undefined;
}

export class RtpReceiver {
  private readonly bySsrc = new Map<number, SsrcEntry>();
  private rtcp = 0;
  private invalid = 0;
  private isClosed = false;

  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (message) => this.onMessage(message));
  }

  static async open(options: RtpReceiverOptions = {}): Promise<RtpReceiver> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, options.bindIp ?? '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.setRecvBufferSize(options.receiveBufferBytes ?? 4 * 1024 * 1024);
    return new RtpReceiver(socket);
  }

  /** Where consumers' PlainTransports must send (`connectPlainTransport()`). */
  get address(): { ip: string; port: number } {
    const { address, port } = this.socket.address();
    return { ip: address, port };
  }

  /** Starts counting an SSRC at zero (packets of unknown SSRCs are counted too, from their first). */
  expect(ssrc: number): void {
    if (!this.bySsrc.has(ssrc)) this.bySsrc.set(ssrc, newEntry());
  }

  stats(ssrc: number): SsrcStats {
    const entry = this.bySsrc.get(ssrc) ?? newEntry();
    return {
      ssrc,
      received: entry.tracker.received,
      expected: entry.tracker.expected,
      lost: entry.tracker.lost,
      bytes: entry.bytes,
      payloadType: entry.payloadType,
      lastArrival: entry.lastArrival,
    };
  }

  received(ssrc: number): number {
    return this.bySsrc.get(ssrc)?.tracker.received ?? 0;
  }

  /** RTP packets over all SSRCs. */
  get totalReceived(): number {
    let total = 0;
    for (const entry of this.bySsrc.values()) total += entry.tracker.received;
    return total;
  }

  get rtcpPackets(): number {
    return this.rtcp;
  }

  /** Datagrams that were neither RTP nor RTCP. */
  get invalidPackets(): number {
    return this.invalid;
  }

  /** Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.socket.close();
  }

  private onMessage(message: Buffer): void {
    if (isRtcp(message)) {
      this.rtcp++;
      return;
    }
    const packet = parseRtpPacket(message);
    if (!packet) {
      this.invalid++;
      return;
    }
    let entry = this.bySsrc.get(packet.ssrc);
    if (!entry) {
      entry = newEntry();
      this.bySsrc.set(packet.ssrc, entry);
    }
    entry.tracker.push(packet.sequenceNumber);
    entry.bytes += message.length;
    entry.payloadType = packet.payloadType;
    entry.lastArrival = performance.now();
  }
}

function newEntry(): SsrcEntry {
  return { tracker: new SequenceTracker(), bytes: 0, payloadType: undefined, lastArrival: undefined };
}
