import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES, ProtocolError, parseRequest, parseServerFrame } from './protocol';

describe('parseRequest', () => {
  it('parses each request by its method', () => {
    expect(parseRequest(JSON.stringify({ type: 'request', id: 1, method: 'join', data: { token: 'abc' } }))).toEqual({
      type: 'request',
      id: 1,
      method: 'join',
      data: { token: 'abc' },
    });
    const signal = {
      to: 'peer-2',
      signal: {
        kind: 'candidate',
        candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
      },
    };
    expect(parseRequest(JSON.stringify({ type: 'request', id: 2, method: 'p2pSignal', data: signal })).data).toEqual(
      signal,
    );
  });

  it('refuses bad frames with the field path, and keeps the id when it was readable', () => {
    expect(() => parseRequest('{')).toThrow('frame is not JSON');
    expect(() => parseRequest(JSON.stringify({ type: 'request', id: 1, method: 'explode', data: {} }))).toThrow(
      /method/,
    );
    let error: unknown;
    try {
      parseRequest(
        JSON.stringify({
          type: 'request',
          id: 7,
          method: 'setPreferredLayers',
          data: { consumerId: 'c', spatialLayer: 5 },
        }),
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).requestId).toBe(7);
    expect((error as ProtocolError).message).toMatch(/spatialLayer/);
    expect(() => parseRequest('x'.repeat(MAX_FRAME_BYTES + 1))).toThrow(/larger than/);
  });
});

describe('parseServerFrame', () => {
  it('parses responses and notifications, and refuses unknown notifications', () => {
    expect(
      parseServerFrame(
        JSON.stringify({ type: 'response', id: 3, ok: false, error: { code: 'FORBIDDEN', message: 'no' } }),
      ),
    ).toMatchObject({ ok: false });
    expect(
      parseServerFrame(JSON.stringify({ type: 'notification', method: 'activeSpeaker', data: { peerId: null } })),
    ).toEqual({
      type: 'notification',
      method: 'activeSpeaker',
      data: { peerId: null },
    });
    expect(() =>
      parseServerFrame(JSON.stringify({ type: 'notification', method: 'modeChanged', data: { mode: 'mesh' } })),
    ).toThrow(/modeChanged/);
  });
});
