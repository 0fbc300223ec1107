/**
 * The browser's side of mediasoup-client, shared by every SFU call of the page.
 *
 * Loading a mediasoup `Device` probes what the browser can send and receive: mediasoup-client
 * builds two throwaway RTCPeerConnections (send-only and receive-only), makes an offer on each
 * and reads the codecs and header extensions from the SDP. That answer belongs to the browser,
 * not to the meeting, so it is asked once per page and kept: {@link warmUpMediaEngine} asks it
 * while the person is on the device check, and the `Device` of each join (and rejoin) loads
 * from the kept answer instead of probing again on the way into the meeting.
 */
import { detectDevice, type types as ms } from 'mediasoup-client';
import { Chrome111 } from 'mediasoup-client/handlers/Chrome111';
import { Chrome74 } from 'mediasoup-client/handlers/Chrome74';
import { Firefox120 } from 'mediasoup-client/handlers/Firefox120';
import { Safari12 } from 'mediasoup-client/handlers/Safari12';

type Probe = ms.HandlerFactory['getNativeRtpCapabilities'];
type Direction = Parameters<Probe>[0]['direction'];

const BROWSER_HANDLERS: Record<string, () => ms.HandlerFactory> = {
  Chrome111: () => Chrome111.createFactory({}),
  Chrome74: () => Chrome74.createFactory({}),
  Firefox120: () => Firefox120.createFactory({}),
  Safari12: () => Safari12.createFactory({}),
};

/**
 * Wraps a handler factory so that its native capabilities are probed once per direction; a
 * probe that fails is forgotten, so the next load asks again.
 */
export function rememberNativeCapabilities(base: ms.HandlerFactory): ms.HandlerFactory {
  const probes = new Map<Direction, ReturnType<Probe>>();
  return {
    name: base.name,
    factory: base.factory,
    getNativeRtpCapabilities: (options) => {
      let probe = probes.get(options.direction);
      if (!probe) {
        probe = base.getNativeRtpCapabilities(options);
        probes.set(options.direction, probe);
        probe.catch(() => probes.delete(options.direction));
      }
      // mediasoup-client clones what it is given, so one answer can serve every Device.
      return probe;
    },
  };
}

let engine: ms.HandlerFactory | null | undefined;

/**
 * The handler factory for this browser with its capabilities kept, or undefined where
 * mediasoup-client has no handler for it (a `Device` then reports the browser unsupported).
 */
export function mediaEngine(): ms.HandlerFactory | undefined {
  if (engine === undefined) {
    const name = detectDevice();
    const make = name ? BROWSER_HANDLERS[name] : undefined;
    engine = make ? rememberNativeCapabilities(make()) : null;
  }
  return engine ?? undefined;
}

/** Probes the browser's capabilities ahead of the first join; errors wait for the join to report them. */
export function warmUpMediaEngine(): void {
  const handler = mediaEngine();
  if (!handler || typeof RTCPeerConnection === 'undefined') return;
  for (const direction of ['recvonly', 'sendonly'] as const)
    handler.getNativeRtpCapabilities({ direction }).catch(() => undefined);
}
