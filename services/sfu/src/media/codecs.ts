import type { types as ms } from 'mediasoup';

/**
 * The codecs every room router offers: Opus 48 kHz stereo and VP8 (simulcast capable).
 * Every router of a room is created with the same list, so all of them have the same RTP
 * capabilities and a client can load its device once per room.
 */
export const MEDIA_CODECS: ms.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48_000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90_000, parameters: { 'x-google-start-bitrate': 1_000 } },
];
