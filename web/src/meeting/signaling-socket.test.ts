import { describe, expect, it, vi } from 'vitest';
import { SignalingRequestError, SignalingSocket, type WebSocketLike } from './signaling-socket';

/** A WebSocket the test plays the server of. */
class FakeWebSocket implements WebSocketLike {
  readyState = 0;
  sent: Array<{ id: number; method: string; data: unknown }> = [];
  closedWith: { code?: number; reason?: string } | undefined;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;

  send(data: string) {
    this.sent.push(JSON.parse(data) as { id: number; method: string; data: unknown });
  }
  close(code?: number, reason?: string) {
    this.readyState = 3;
    this.closedWith = { code, reason };
  }
  open() {
    this.readyState = 1;
    this.onopen?.({} as Event);
  }
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) } as MessageEvent);
  }
  serverClose(code: number, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason } as CloseEvent);
  }
}

async function connected(options: { requestTimeoutMs?: number } = {}) {
  const ws = new FakeWebSocket();
  const opening = SignalingSocket.connect('ws://sfu.test/sfu', { createWebSocket: () => ws, ...options });
  ws.open();
  return { ws, socket: await opening };
}

describe('SignalingSocket', () => {
  it('answers a request with the data of the response that has its id', async () => {
    const { ws, socket } = await connected();
    const joined = socket.request('join', { token: 't' });
    const caps = socket.request('getRouterRtpCapabilities', {});
    expect(ws.sent.map((f) => [f.id, f.method])).toEqual([
      [1, 'join'],
      [2, 'getRouterRtpCapabilities'],
    ]);
    ws.receive({ type: 'response', id: 2, ok: true, data: { rtpCapabilities: { codecs: [] } } });
    ws.receive({
      type: 'response',
      id: 1,
      ok: false,
      error: { code: 'PRECONDITION_FAILED', message: 'The meeting is locked.', reason: 'session.locked' },
    });
    expect(await caps).toEqual({ rtpCapabilities: { codecs: [] } });
    const refusal = await joined.catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(SignalingRequestError);
    expect(refusal).toMatchObject({
      method: 'join',
      code: 'PRECONDITION_FAILED',
      reason: 'session.locked',
      message: 'The meeting is locked.',
    });
  });

  it('hands notifications to the listener, parsed', async () => {
    const { ws, socket } = await connected();
    const got: unknown[] = [];
    socket.onNotification((n) => got.push(n));
    ws.receive({ type: 'notification', method: 'peerMuted', data: { peerId: 'p', kind: 'audio', byHost: true } });
    expect(got).toEqual([
      { type: 'notification', method: 'peerMuted', data: { peerId: 'p', kind: 'audio', byHost: true } },
    ]);
  });

  it('closes on a frame that does not parse, and fails what was pending', async () => {
    const { ws, socket } = await connected();
    const closes: number[] = [];
    socket.onClose((c) => closes.push(c.code));
    const pending = socket.request('leave', {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    ws.receive({ type: 'notification', method: 'peerMuted', data: { peerId: 'p', kind: 'smell' } });
    expect(ws.closedWith?.code).toBe(4400);
    expect(closes).toEqual([4400]);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/unreadable frame/), expect.anything());
    warn.mockRestore();
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(socket.request('leave', {})).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('reports the server closing with its code, once', async () => {
    const { ws, socket } = await connected();
    const closes: Array<{ code: number; reason: string }> = [];
    socket.onClose((c) => closes.push(c));
    ws.serverClose(4404, 'removed by the host');
    ws.serverClose(4404, 'again');
    expect(closes).toEqual([{ code: 4404, reason: 'removed by the host' }]);
    expect(socket.isOpen).toBe(false);
  });

  it('times a request out', async () => {
    const { socket } = await connected({ requestTimeoutMs: 5 });
    await expect(socket.request('getRouterRtpCapabilities', {})).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('fails to connect when the socket closes before opening', async () => {
    const ws = new FakeWebSocket();
    const opening = SignalingSocket.connect('ws://sfu.test/sfu', { createWebSocket: () => ws });
    ws.serverClose(1006);
    await expect(opening).rejects.toThrow(/Could not connect/);
  });

  it('a detached socket delivers nothing more', async () => {
    const { ws, socket } = await connected();
    const got: unknown[] = [];
    socket.onNotification((n) => got.push(n));
    socket.onClose((c) => got.push(c));
    socket.detach();
    ws.receive({ type: 'notification', method: 'removed', data: {} });
    ws.serverClose(4404);
    expect(got).toEqual([]);
  });
});
