/* No DOM types here: the browser tests and bench:join (outside the web app) import this too. */

/** Moments of the join, for the join-latency benchmark (`performance.now()` ms). */
export interface JoinTimeline {
  /** `join()` was called: the moment `meetings.join` is requested. */
  joinRequested?: number;
  ticket?: number;
  signalingJoined?: number;
  /** Through the SFU: the mediasoup Device loaded (with the router's capabilities). */
  deviceLoaded?: number;
  /** Through the SFU: the first `consume` of a video answered by the server. */
  videoConsumeAnswered?: number;
  /** Through the SFU: the first video consumer created in the page (its SDP applied). */
  videoConsumerCreated?: number;
  /** Through the SFU: the first video consumer resumed (the server answered `resumeConsumer`). */
  videoResumed?: number;
  /** Through the SFU: the receive transport connected (ICE and DTLS). */
  mediaConnected?: number;
  /** The first track of someone else's video was handed to the page. */
  firstRemoteVideoTrack?: number;
  /** The first frame of someone else's video was shown. */
  firstRemoteFrame?: number;
  /** The mode when that frame arrived. */
  firstRemoteFrameMode?: string;
}
