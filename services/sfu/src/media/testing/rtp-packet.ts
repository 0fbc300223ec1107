/**
 * RTP (RFC 3550) packet building and parsing, just enough to feed a mediasoup PlainTransport
 * producer with packets it accepts and to count and order what a consumer sends back:
 * the 12-byte fixed header, one-byte header extensions (RFC 8285, for ssrc-audio-level), a VP8
 * payload descriptor (RFC 7741) that marks key frames, RTP/RTCP demultiplexing (RFC 5761) and
 * extended sequence numbers for loss.
 */

export const RTP_VERSION = 2;
export const RTP_HEADER_SIZE = 12;

/** A one-byte header extension element (id 1–14, 1–16 bytes of data). */
export interface RtpHeaderExtension {
  id: number;
  value: Buffer;
}

export interface RtpPacketFields {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  extensions?: readonly RtpHeaderExtension[];
  payload: Buffer;
}

export interface ParsedRtpPacket {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  /** Header length including CSRCs and the extension block. */
  headerLength: number;
  payloadLength: number;
  /** One-byte extensions only (profile 0xBEDE); empty otherwise. */
  extensions: RtpHeaderExtension[];
}

/** The header (with extensions) of an RTP packet; send it followed by the payload. */
export function buildRtpHeader(fields: Omit<RtpPacketFields, 'payload'>): Buffer {
  const extensionBlock = buildOneByteExtensions(fields.extensions ?? []);
  const header = Buffer.allocUnsafe(RTP_HEADER_SIZE + extensionBlock.length);
  header[0] = (RTP_VERSION << 6) | (extensionBlock.length > 0 ? 0x10 : 0);
  header[1] = ((fields.marker ? 1 : 0) << 7) | (fields.payloadType & 0x7f);
  header.writeUInt16BE(fields.sequenceNumber & 0xffff, 2);
  header.writeUInt32BE(fields.timestamp >>> 0, 4);
  header.writeUInt32BE(fields.ssrc >>> 0, 8);
  extensionBlock.copy(header, RTP_HEADER_SIZE);
  return header;
}

export function buildRtpPacket(fields: RtpPacketFields): Buffer {
  return Buffer.concat([buildRtpHeader(fields), fields.payload]);
}

function buildOneByteExtensions(extensions: readonly RtpHeaderExtension[]): Buffer {
  if (extensions.length === 0) return Buffer.alloc(0);
  let size = 0;
  for (const { id, value } of extensions) {
    if (!Number.isInteger(id) || id < 1 || id > 14)
      throw new RangeError(`one-byte header extension id must be 1-14, got ${id}`);
    if (value.length < 1 || value.length > 16) {
      throw new RangeError(`one-byte header extension data must be 1-16 bytes, got ${value.length}`);
    }
    size += 1 + value.length;
  }
  const words = Math.ceil(size / 4);
  const block = Buffer.alloc(4 + words * 4); // zero padding
  block.writeUInt16BE(0xbede, 0);
  block.writeUInt16BE(words, 2);
  let offset = 4;
  for (const { id, value } of extensions) {
    block[offset++] = (id << 4) | (value.length - 1);
    value.copy(block, offset);
    offset += value.length;
  }
  return block;
}

/** RFC 5761: on a muxed port, a second byte of 192–223 is an RTCP packet type. */
export function isRtcp(packet: Buffer): boolean {
  if (packet.length < 2) return false;
  const second = packet[1] ?? 0;
  return second >= 192 && second <= 223;
}

/** Parses an RTP packet; `undefined` for anything that is not one (too short, wrong version, RTCP). */
export function parseRtpPacket(packet: Buffer): ParsedRtpPacket | undefined {
  if (packet.length < RTP_HEADER_SIZE || isRtcp(packet)) return undefined;
  const first = packet[0] ?? 0;
  if (first >> 6 !== RTP_VERSION) return undefined;
  const padding = (first & 0x20) !== 0;
  const hasExtension = (first & 0x10) !== 0;
  const csrcCount = first & 0x0f;
  let headerLength = RTP_HEADER_SIZE + csrcCount * 4;
  const extensions: RtpHeaderExtension[] = [];
  if (hasExtension) {
    if (packet.length < headerLength + 4) return undefined;
    const profile = packet.readUInt16BE(headerLength);
    const words = packet.readUInt16BE(headerLength + 2);
    const start = headerLength + 4;
    const end = start + words * 4;
    if (packet.length < end) return undefined;
    if (profile === 0xbede) {
      for (let offset = start; offset < end;) {
        const byte = packet[offset] ?? 0;
        if (byte === 0) {
          offset++; // padding
          continue;
        }
        const id = byte >> 4;
        if (id === 15) break;
        const length = (byte & 0x0f) + 1;
        extensions.push({ id, value: packet.subarray(offset + 1, offset + 1 + length) });
        offset += 1 + length;
      }
    }
    headerLength = end;
  }
  const paddingLength = padding ? (packet[packet.length - 1] ?? 0) : 0;
  const payloadLength = packet.length - headerLength - paddingLength;
  if (payloadLength < 0) return undefined;
  const second = packet[1] ?? 0;
  return {
    payloadType: second & 0x7f,
    marker: (second & 0x80) !== 0,
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    headerLength,
    payloadLength,
    extensions,
  };
}

export interface SenderReportFields {
  ssrc: number;
  /** Wall clock of the report, in Unix milliseconds. */
  wallClockMs: number;
  /** The RTP timestamp that corresponds to `wallClockMs`. */
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;

/**
 * An RTCP Sender Report (PT 200) without report blocks. mediasoup needs one on every simulcast
 * stream before it switches a consumer between spatial layers (to align their timestamps).
 */
export function buildSenderReport(fields: SenderReportFields): Buffer {
  const report = Buffer.alloc(28);
  report[0] = RTP_VERSION << 6; // RC = 0
  report[1] = 200;
  report.writeUInt16BE(6, 2); // length in 32-bit words minus one
  report.writeUInt32BE(fields.ssrc >>> 0, 4);
  const seconds = Math.floor(fields.wallClockMs / 1_000);
  report.writeUInt32BE((seconds + NTP_UNIX_OFFSET_SECONDS) >>> 0, 8);
  report.writeUInt32BE(Math.floor(((fields.wallClockMs - seconds * 1_000) / 1_000) * 2 ** 32) >>> 0, 12);
  report.writeUInt32BE(fields.rtpTimestamp >>> 0, 16);
  report.writeUInt32BE(fields.packetCount >>> 0, 20);
  report.writeUInt32BE(fields.octetCount >>> 0, 24);
  return report;
}

/** RTCP packet types and feedback formats in a (compound) RTCP packet, e.g. `{ type: 206, format: 1 }` for a PLI. */
export function rtcpPacketTypes(packet: Buffer): Array<{ type: number; format: number }> {
  const types: Array<{ type: number; format: number }> = [];
  for (let offset = 0; offset + 4 <= packet.length;) {
    const first = packet[offset] ?? 0;
    if (first >> 6 !== RTP_VERSION) break;
    types.push({ type: packet[offset + 1] ?? 0, format: first & 0x1f });
    offset += (packet.readUInt16BE(offset + 2) + 1) * 4;
  }
  return types;
}

/** RTCP PSFB (206) with FMT 1 (PLI) or 4 (FIR): the SFU asks the sender for a key frame. */
export function isKeyFrameRequest(packet: Buffer): boolean {
  return rtcpPacketTypes(packet).some(({ type, format }) => type === 206 && (format === 1 || format === 4));
}

/**
 * A VP8 payload descriptor (RFC 7741) with a 15-bit picture id, followed by the first byte of
 * the VP8 payload header, whose lowest bit is 0 on a key frame. mediasoup reads both: a consumer
 * starts (and restarts after a pause) only on a key frame.
 */
export function vp8PayloadPrefix(options: { startOfFrame: boolean; keyFrame: boolean; pictureId: number }): Buffer {
  const prefix = Buffer.allocUnsafe(5);
  prefix[0] = 0x80 | (options.startOfFrame ? 0x10 : 0); // X=1, S, PID=0
  prefix[1] = 0x80; // I=1: picture id present
  prefix.writeUInt16BE(0x8000 | (options.pictureId & 0x7fff), 2); // M=1: 15-bit picture id
  prefix[4] = options.keyFrame && options.startOfFrame ? 0x00 : 0x01; // P bit: 0 = key frame
  return prefix;
}

/** The ssrc-audio-level extension's data byte (RFC 6464): V flag and level in -dBov (0 loudest, 127 silence). */
export function audioLevelByte(levelDbov: number, voice: boolean): Buffer {
  const level = Math.max(0, Math.min(127, Math.round(levelDbov)));
  return Buffer.from([(voice ? 0x80 : 0) | level]);
}

/**
 * Counts one SSRC's packets and tracks its extended highest sequence number (RFC 3550 A.1,
 * without probation), so loss = expected − received even across 16-bit wrap-around. Reordered
 * packets count as received and do not move the highest number back.
 */
export class SequenceTracker {
  private firstExtended: number | undefined;
  private highestExtended: number | undefined;
  private count = 0;

  push(sequenceNumber: number): void {
    this.count++;
    if (this.highestExtended === undefined) {
      this.firstExtended = sequenceNumber;
      this.highestExtended = sequenceNumber;
      return;
    }
    const highest = this.highestExtended & 0xffff;
    const forward = (sequenceNumber - highest + 0x10000) % 0x10000;
    if (forward === 0 || forward >= 0x8000) return; // duplicate or older
    this.highestExtended += forward;
  }

  get received(): number {
    return this.count;
  }

  /** Packets from the first to the highest sequence number seen. */
  get expected(): number {
    if (this.firstExtended === undefined || this.highestExtended === undefined) return 0;
    return this.highestExtended - this.firstExtended + 1;
  }

  /** Never negative (duplicates could otherwise make it so). */
  get lost(): number {
    return Math.max(0, this.expected - this.count);
  }

  get highest(): number | undefined {
    return this.highestExtended;
  }
}
