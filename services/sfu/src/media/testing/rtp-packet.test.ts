import { describe, expect, it } from 'vitest';
import {
  SequenceTracker,
  audioLevelByte,
  buildRtpPacket,
  buildSenderReport,
  isKeyFrameRequest,
  isRtcp,
  parseRtpPacket,
  rtcpPacketTypes,
  vp8PayloadPrefix,
} from './rtp-packet';

describe('buildRtpPacket', () => {
  it('writes the 12-byte fixed header in network order', () => {
    const packet = buildRtpPacket({
      payloadType: 101,
      sequenceNumber: 0x1234,
      timestamp: 0xdeadbeef,
      ssrc: 0x01020304,
      marker: true,
      payload: Buffer.from([9, 9]),
    });
    expect([...packet]).toEqual([0x80, 0x80 | 101, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 9, 9]);
  });

  it('wraps sequence numbers and timestamps instead of overflowing', () => {
    const packet = buildRtpPacket({
      payloadType: 96,
      sequenceNumber: 0x1_0001,
      timestamp: 2 ** 32 + 5,
      ssrc: 1,
      payload: Buffer.alloc(0),
    });
    expect(packet.readUInt16BE(2)).toBe(1);
    expect(packet.readUInt32BE(4)).toBe(5);
  });

  it('adds one-byte header extensions padded to 32-bit words', () => {
    const packet = buildRtpPacket({
      payloadType: 100,
      sequenceNumber: 7,
      timestamp: 960,
      ssrc: 42,
      extensions: [{ id: 1, value: audioLevelByte(30, true) }],
      payload: Buffer.from('opus'),
    });
    expect(packet[0]).toBe(0x90); // V=2, X=1
    expect([...packet.subarray(12, 20)]).toEqual([0xbe, 0xde, 0x00, 0x01, 0x10, 0x80 | 30, 0, 0]);
    expect(packet.subarray(20).toString()).toBe('opus');
  });

  it('rejects extension ids outside 1-14', () => {
    expect(() =>
      buildRtpPacket({
        payloadType: 100,
        sequenceNumber: 1,
        timestamp: 1,
        ssrc: 1,
        extensions: [{ id: 15, value: Buffer.from([1]) }],
        payload: Buffer.alloc(0),
      }),
    ).toThrow(RangeError);
  });
});

describe('parseRtpPacket', () => {
  it('reads back what buildRtpPacket wrote, extensions included', () => {
    const packet = buildRtpPacket({
      payloadType: 100,
      sequenceNumber: 65535,
      timestamp: 123456,
      ssrc: 0xfffffffe,
      marker: true,
      extensions: [
        { id: 1, value: Buffer.from([0x85]) },
        { id: 3, value: Buffer.from([1, 2, 3]) },
      ],
      payload: Buffer.alloc(50, 1),
    });
    const parsed = parseRtpPacket(packet);
    expect(parsed).toMatchObject({
      payloadType: 100,
      sequenceNumber: 65535,
      timestamp: 123456,
      ssrc: 0xfffffffe,
      marker: true,
      payloadLength: 50,
    });
    expect(parsed?.extensions.map((e) => [e.id, [...e.value]])).toEqual([
      [1, [0x85]],
      [3, [1, 2, 3]],
    ]);
  });

  it('skips CSRCs and leaves out padding', () => {
    const packet = Buffer.concat([
      Buffer.from([0xa2, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]), // V=2, P=1, CC=2
      Buffer.alloc(8), // two CSRCs
      Buffer.from([7, 7, 7]),
      Buffer.from([0, 0, 3]), // three bytes of padding
    ]);
    expect(parseRtpPacket(packet)).toMatchObject({ headerLength: 20, payloadLength: 3, sequenceNumber: 1, ssrc: 3 });
  });

  it('returns undefined for RTCP, short or non-version-2 datagrams', () => {
    expect(parseRtpPacket(Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0]))).toBeUndefined();
    expect(parseRtpPacket(Buffer.from([0x80, 96, 0]))).toBeUndefined();
    expect(parseRtpPacket(Buffer.alloc(12))).toBeUndefined();
  });
});

describe('RTCP', () => {
  const pli = Buffer.from([0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
  const receiverReport = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]);

  it('demultiplexes RTCP from RTP by the second byte', () => {
    expect(isRtcp(pli)).toBe(true);
    expect(
      isRtcp(
        buildRtpPacket({
          payloadType: 101,
          sequenceNumber: 1,
          timestamp: 1,
          ssrc: 1,
          marker: true,
          payload: Buffer.alloc(1),
        }),
      ),
    ).toBe(false);
  });

  it('walks a compound packet and spots a PLI behind a receiver report', () => {
    const compound = Buffer.concat([receiverReport, pli]);
    expect(rtcpPacketTypes(compound)).toEqual([
      { type: 201, format: 0 },
      { type: 206, format: 1 },
    ]);
    expect(isKeyFrameRequest(compound)).toBe(true);
    expect(isKeyFrameRequest(receiverReport)).toBe(false);
  });
});

describe('buildSenderReport', () => {
  it('writes an RTCP SR with NTP time, RTP timestamp and counts', () => {
    const report = buildSenderReport({
      ssrc: 7,
      wallClockMs: 1_500,
      rtpTimestamp: 90_000,
      packetCount: 10,
      octetCount: 12_000,
    });
    expect(report).toHaveLength(28);
    expect(isRtcp(report)).toBe(true);
    expect(rtcpPacketTypes(report)).toEqual([{ type: 200, format: 0 }]);
    expect(report.readUInt32BE(4)).toBe(7);
    expect(report.readUInt32BE(8)).toBe(2_208_988_800 + 1); // NTP seconds
    expect(report.readUInt32BE(12)).toBe(2 ** 31); // half a second
    expect([report.readUInt32BE(16), report.readUInt32BE(20), report.readUInt32BE(24)]).toEqual([90_000, 10, 12_000]);
  });
});

describe('vp8PayloadPrefix', () => {
  it('marks a key frame only on the first packet of the frame', () => {
    expect([...vp8PayloadPrefix({ startOfFrame: true, keyFrame: true, pictureId: 5 })]).toEqual([
      0x90, 0x80, 0x80, 5, 0x00,
    ]);
    expect(vp8PayloadPrefix({ startOfFrame: false, keyFrame: true, pictureId: 5 })[4]).toBe(0x01);
    expect(vp8PayloadPrefix({ startOfFrame: true, keyFrame: false, pictureId: 5 })[4]).toBe(0x01);
  });

  it('keeps the picture id to 15 bits', () => {
    expect(vp8PayloadPrefix({ startOfFrame: true, keyFrame: false, pictureId: 0x8001 }).readUInt16BE(2)).toBe(0x8001);
  });
});

describe('SequenceTracker', () => {
  it('counts loss as expected minus received', () => {
    const tracker = new SequenceTracker();
    for (const seq of [10, 11, 13, 14, 17]) tracker.push(seq);
    expect({ received: tracker.received, expected: tracker.expected, lost: tracker.lost }).toEqual({
      received: 5,
      expected: 8,
      lost: 3,
    });
  });

  it('extends sequence numbers across the 16-bit wrap', () => {
    const tracker = new SequenceTracker();
    for (const seq of [65533, 65534, 65535, 0, 1, 3]) tracker.push(seq);
    expect(tracker.expected).toBe(7);
    expect(tracker.lost).toBe(1);
    expect(tracker.highest).toBe(65536 + 3);
  });

  it('counts a late packet as received without moving the highest back', () => {
    const tracker = new SequenceTracker();
    for (const seq of [1, 2, 4, 3]) tracker.push(seq);
    expect({ expected: tracker.expected, lost: tracker.lost, highest: tracker.highest }).toEqual({
      expected: 4,
      lost: 0,
      highest: 4,
    });
  });

  it('starts empty', () => {
    expect(new SequenceTracker().expected).toBe(0);
  });
});
