import type { types as ms } from 'mediasoup-client';
import { describe, expect, it } from 'vitest';
import { rememberNativeCapabilities } from './media-engine';

function probingFactory(answers: Array<() => Promise<ms.RtpCapabilities>>) {
  const asked: string[] = [];
  const base: ms.HandlerFactory = {
    name: 'Test',
    factory: () => {
      throw new Error('not used here');
    },
    getNativeRtpCapabilities: ({ direction }) => {
      asked.push(direction);
      const next = answers.shift();
      if (!next) throw new Error('asked more often than expected');
      return next();
    },
  };
  return { base, asked };
}

const caps = (mimeType: string): ms.RtpCapabilities => ({
  codecs: [{ kind: 'audio', mimeType, preferredPayloadType: 100, clockRate: 48000, channels: 2 }],
  headerExtensions: [],
});

describe('rememberNativeCapabilities', () => {
  it('probes each direction once, however many devices load', async () => {
    const { base, asked } = probingFactory([async () => caps('audio/opus'), async () => caps('audio/PCMU')]);
    const engine = rememberNativeCapabilities(base);
    const first = await Promise.all([
      engine.getNativeRtpCapabilities({ direction: 'recvonly' }),
      engine.getNativeRtpCapabilities({ direction: 'recvonly' }),
    ]);
    const send = await engine.getNativeRtpCapabilities({ direction: 'sendonly' });
    const again = await engine.getNativeRtpCapabilities({ direction: 'recvonly' });
    expect(asked).toEqual(['recvonly', 'sendonly']);
    expect(first[0]!.codecs![0]!.mimeType).toBe('audio/opus');
    expect(again).toBe(first[0]);
    expect(send.codecs![0]!.mimeType).toBe('audio/PCMU');
    expect(engine.name).toBe('Test');
    expect(engine.factory).toBe(base.factory);
  });

  it('forgets a probe that failed, so the next load asks again', async () => {
    const { base, asked } = probingFactory([
      async () => Promise.reject(new Error('no peer connection')),
      async () => caps('audio/opus'),
    ]);
    const engine = rememberNativeCapabilities(base);
    await expect(engine.getNativeRtpCapabilities({ direction: 'sendonly' })).rejects.toThrow('no peer connection');
    await expect(engine.getNativeRtpCapabilities({ direction: 'sendonly' })).resolves.toMatchObject({
      codecs: [{ mimeType: 'audio/opus' }],
    });
    expect(asked).toEqual(['sendonly', 'sendonly']);
  });
});
