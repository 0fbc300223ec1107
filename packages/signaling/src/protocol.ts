/**
 * The SFU's WebSocket signaling protocol. Every frame is JSON and is parsed with these zod
 * schemas on arrival, on both sides (after mediasoup-demo's protoo: requests answered by
 * responses with the same id, and notifications).
 *
 *   client → server  { type: 'request', id, method, data }
 *   server → client  { type: 'response', id, ok: true, data } | { type: 'response', id, ok: false, error }
 *   server → client  { type: 'notification', method, data }
 *
 * The first request on a socket must be `join` with a join token from the gateway's
 * `meetings.join`. In `p2p` mode (two participants) the server only relays `p2pSignal`
 * (offer, answer, ICE candidates) and no SFU transport exists; when a third participant
 * joins, everyone gets `modeChanged` to `sfu` and continues through mediasoup.
 *
 * mediasoup's own objects (RTP capabilities and parameters, DTLS and ICE parameters) are
 * checked here for shape only; mediasoup validates them in depth and its refusals come back as
 * `BAD_REQUEST` responses.
 */
import { z } from 'zod';

/** Largest frame either side accepts (an SDP offer with simulcast is well under this). */
export const MAX_FRAME_BYTES = 256 * 1024;

const Id = z.string().min(1).max(200);
/** A mediasoup object checked for shape only (an object with string keys). */
const MsObject = z.record(z.string(), z.unknown());

export const ModeSchema = z.enum(['p2p', 'sfu']);
export type Mode = z.infer<typeof ModeSchema>;
export const MediaSourceSchema = z.enum(['mic', 'camera', 'screen']);
export type MediaSource = z.infer<typeof MediaSourceSchema>;
export const KindSchema = z.enum(['audio', 'video']);
export const DirectionSchema = z.enum(['send', 'recv']);

export const IceServerSchema = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof IceServerSchema>;

/** `ICE_SERVERS` as the processes read it from the environment: a JSON array, `[]` when unset. */
export const IceServersEnvSchema = z
  .string()
  .default('[]')
  .transform((raw, ctx) => {
    try {
      return z.array(IceServerSchema).parse(JSON.parse(raw));
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: `ICE_SERVERS must be a JSON array of {urls, username?, credential?}: ${(err as Error).message}`,
      });
      return z.NEVER;
    }
  });

export const PeerInfoSchema = z.object({ peerId: Id, displayName: z.string(), isHost: z.boolean() });
export type PeerInfo = z.infer<typeof PeerInfoSchema>;

export const ProducerInfoSchema = z.object({
  producerId: Id,
  peerId: Id,
  kind: KindSchema,
  source: MediaSourceSchema,
  paused: z.boolean(),
});
export type ProducerInfo = z.infer<typeof ProducerInfoSchema>;

/** A browser-to-browser WebRTC message relayed in `p2p` mode. */
export const P2pSignalSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('offer'), sdp: z.string().max(64 * 1024) }),
  z.object({ kind: z.literal('answer'), sdp: z.string().max(64 * 1024) }),
  z.object({
    kind: z.literal('candidate'),
    candidate: z.object({
      candidate: z.string().max(1024),
      sdpMid: z.string().max(64).nullable().optional(),
      sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
    }),
  }),
]);
export type P2pSignal = z.infer<typeof P2pSignalSchema>;

/** Requests, by method, with their data. */
/** A simulcast spatial or temporal layer: 0 (lowest) to 2. */
const SpatialLayer = z.number().int().min(0).max(2);

export const RequestSchemas = {
  /** First request: admits the participant with a join token. */
  join: z.object({ token: z.string().min(1).max(4096) }),
  /** The room's router RTP capabilities (to load a mediasoup-client Device). */
  getRouterRtpCapabilities: z.object({}),
  /** The client's receive capabilities; needed before `consume`. */
  setRtpCapabilities: z.object({ rtpCapabilities: MsObject }),
  createWebRtcTransport: z.object({ direction: DirectionSchema }),
  connectWebRtcTransport: z.object({ transportId: Id, dtlsParameters: MsObject }),
  restartIce: z.object({ transportId: Id }),
  produce: z.object({ transportId: Id, kind: KindSchema, rtpParameters: MsObject, source: MediaSourceSchema }),
  closeProducer: z.object({ producerId: Id }),
  pauseProducer: z.object({ producerId: Id }),
  resumeProducer: z.object({ producerId: Id }),
  /**
   * Consumes a producer on the caller's receive transport; the consumer starts paused. A camera
   * or screen may be asked for at a simulcast layer from the start (`spatialLayer`, as
   * `setPreferredLayers`), which spares a layer switch (and its key frame) right after joining.
   */
  consume: z.object({ producerId: Id, spatialLayer: SpatialLayer.optional(), temporalLayer: SpatialLayer.optional() }),
  pauseConsumer: z.object({ consumerId: Id }),
  resumeConsumer: z.object({ consumerId: Id }),
  setPreferredLayers: z.object({ consumerId: Id, spatialLayer: SpatialLayer, temporalLayer: SpatialLayer.optional() }),
  /** Relays a WebRTC message to another peer (`p2p` mode only). */
  p2pSignal: z.object({ to: Id, signal: P2pSignalSchema }),
  leave: z.object({}),
} as const;
export type RequestMethod = keyof typeof RequestSchemas;
export type RequestData<M extends RequestMethod> = z.infer<(typeof RequestSchemas)[M]>;

export const RequestMethodSchema = z.enum(Object.keys(RequestSchemas) as [RequestMethod, ...RequestMethod[]]);

/** Envelope of a request; `data` is parsed by method with {@link parseRequest}. */
const RequestEnvelopeSchema = z.object({
  type: z.literal('request'),
  id: z.number().int().nonnegative(),
  method: RequestMethodSchema,
  data: z.unknown(),
});

/** A parsed request. */
export type ClientRequest = {
  [M in RequestMethod]: { type: 'request'; id: number; method: M; data: RequestData<M> };
}[RequestMethod];

/** Responses' data by method. */
export interface ResponseData {
  join: {
    peerId: string;
    mode: Mode;
    peers: PeerInfo[];
    producers: ProducerInfo[];
    iceServers: IceServer[];
    locked: boolean;
    isHost: boolean;
    canModerate: boolean;
    activeSpeaker: string | null;
  };
  getRouterRtpCapabilities: { rtpCapabilities: Record<string, unknown> };
  setRtpCapabilities: Record<string, never>;
  createWebRtcTransport: {
    transportId: string;
    iceParameters: Record<string, unknown>;
    iceCandidates: unknown[];
    dtlsParameters: Record<string, unknown>;
  };
  connectWebRtcTransport: Record<string, never>;
  restartIce: { iceParameters: Record<string, unknown> };
  produce: { producerId: string };
  closeProducer: Record<string, never>;
  pauseProducer: Record<string, never>;
  resumeProducer: Record<string, never>;
  consume: {
    consumerId: string;
    producerId: string;
    peerId: string;
    kind: 'audio' | 'video';
    source: MediaSource;
    rtpParameters: Record<string, unknown>;
    type: string;
    producerPaused: boolean;
  };
  pauseConsumer: Record<string, never>;
  resumeConsumer: Record<string, never>;
  setPreferredLayers: Record<string, never>;
  p2pSignal: Record<string, never>;
  leave: Record<string, never>;
}

export const ErrorCodeSchema = z.enum([
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'INTERNAL',
]);
export type SignalingErrorCode = z.infer<typeof ErrorCodeSchema>;
export const SignalingErrorSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  reason: z.string().optional(),
});
export type SignalingError = z.infer<typeof SignalingErrorSchema>;

export const ResponseSchema = z.discriminatedUnion('ok', [
  z.object({ type: z.literal('response'), id: z.number().int().nonnegative(), ok: z.literal(true), data: z.unknown() }),
  z.object({
    type: z.literal('response'),
    id: z.number().int().nonnegative(),
    ok: z.literal(false),
    error: SignalingErrorSchema,
  }),
]);
export type ServerResponse = z.infer<typeof ResponseSchema>;

/** Notifications, by method, with their data. */
export const NotificationSchemas = {
  peerJoined: PeerInfoSchema,
  peerLeft: z.object({ peerId: Id }),
  /** The call moved from peer-to-peer to the SFU (a third participant joined). */
  modeChanged: z.object({ mode: ModeSchema }),
  newProducer: ProducerInfoSchema,
  producerClosed: z.object({ producerId: Id, peerId: Id }),
  producerPaused: z.object({ producerId: Id, peerId: Id }),
  producerResumed: z.object({ producerId: Id, peerId: Id }),
  consumerClosed: z.object({ consumerId: Id, producerId: Id }),
  consumerLayersChanged: z.object({
    consumerId: Id,
    spatialLayer: z.number().int().nullable(),
    temporalLayer: z.number().int().nullable(),
  }),
  /**
   * To the owner of a simulcast producer: the highest spatial layer any consumer wants now.
   * Encoding the layers above it is wasted work; the client stops them (`setMaxSpatialLayer`)
   * and starts them again when this rises.
   */
  producerLayersWanted: z.object({ producerId: Id, spatialLayer: z.number().int().min(0) }),
  activeSpeaker: z.object({ peerId: Id.nullable() }),
  p2pSignal: z.object({ from: Id, signal: P2pSignalSchema }),
  /** The host muted someone; to the muted participant their own producer was paused by the server. */
  peerMuted: z.object({ peerId: Id, kind: KindSchema, byHost: z.literal(true) }),
  meetingLocked: z.object({ locked: z.boolean() }),
  /** You were removed by the host; the socket closes next. */
  removed: z.object({}),
  /** The meeting ended for everyone; the socket closes next. */
  meetingEnded: z.object({ reason: z.enum(['ended_by_host', 'empty']) }),
  /** The media worker serving you failed; rejoin (a new join token is not needed within its lifetime). */
  reconnect: z.object({ reason: z.string() }),
} as const;
export type NotificationMethod = keyof typeof NotificationSchemas;
export type NotificationData<M extends NotificationMethod> = z.infer<(typeof NotificationSchemas)[M]>;
export type ServerNotification = {
  [M in NotificationMethod]: { type: 'notification'; method: M; data: NotificationData<M> };
}[NotificationMethod];

const NotificationEnvelopeSchema = z.object({
  type: z.literal('notification'),
  method: z.enum(Object.keys(NotificationSchemas) as [NotificationMethod, ...NotificationMethod[]]),
  data: z.unknown(),
});

/** Why a frame was refused. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    /** The request id, when the envelope was readable (so the refusal can be answered). */
    readonly requestId?: number,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(frame)'}: ${i.message}`).join('; ');
}

function json(frame: string): unknown {
  if (frame.length > MAX_FRAME_BYTES) throw new ProtocolError(`frame larger than ${MAX_FRAME_BYTES} bytes`);
  try {
    return JSON.parse(frame);
  } catch {
    throw new ProtocolError('frame is not JSON');
  }
}

/** Parses a client frame (server side). Throws {@link ProtocolError} with the field paths. */
export function parseRequest(frame: string): ClientRequest {
  const envelope = RequestEnvelopeSchema.safeParse(json(frame));
  if (!envelope.success) throw new ProtocolError(`bad request: ${issues(envelope.error)}`);
  const { id, method } = envelope.data;
  const data = RequestSchemas[method].safeParse(envelope.data.data ?? {});
  if (!data.success) throw new ProtocolError(`bad ${method} request: ${issues(data.error)}`, id);
  return { type: 'request', id, method, data: data.data } as ClientRequest;
}

/** Parses a server frame (client side). Throws {@link ProtocolError}. */
export function parseServerFrame(frame: string): ServerResponse | ServerNotification {
  const raw = json(frame);
  const response = ResponseSchema.safeParse(raw);
  if (response.success) return response.data;
  const envelope = NotificationEnvelopeSchema.safeParse(raw);
  if (!envelope.success) throw new ProtocolError(`bad server frame: ${issues(envelope.error)}`);
  const data = NotificationSchemas[envelope.data.method].safeParse(envelope.data.data);
  if (!data.success) throw new ProtocolError(`bad ${envelope.data.method} notification: ${issues(data.error)}`);
  return { type: 'notification', method: envelope.data.method, data: data.data } as ServerNotification;
}
