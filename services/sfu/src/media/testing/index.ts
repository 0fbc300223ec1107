/**
 * `@quorum/sfu/media/testing`: real RTP into and out of the media layer (PlainTransports and UDP
 * sockets) for integration tests and the SFU benchmark. Not for production code.
 */
export {
  AUDIO_LEVEL_EXTENSION_ID,
  AUDIO_LEVEL_URI,
  OPUS_PAYLOAD_TYPE,
  VP8_PAYLOAD_TYPE,
  consumeRtp,
  createRtpProducer,
  createRtpReceiveTransport,
  opusRtpParameters,
  randomSsrc,
  vp8RtpParameters,
  type RtpConsumer,
  type RtpProducer,
  type RtpProducerOptions,
} from './plain-rtp';
export {
  SequenceTracker,
  audioLevelByte,
  buildRtpHeader,
  buildRtpPacket,
  buildSenderReport,
  isKeyFrameRequest,
  isRtcp,
  parseRtpPacket,
  rtcpPacketTypes,
  vp8PayloadPrefix,
  type ParsedRtpPacket,
  type RtpHeaderExtension,
  type RtpPacketFields,
} from './rtp-packet';
export { RtpReceiver, type RtpReceiverOptions, type SsrcStats } from './rtp-receiver';
export { RtpSender, type RtpSenderOptions } from './rtp-sender';
export { requireMediasoupWorkerBin, testLogger } from './test-env';
export { sleep, waitFor } from './wait';
