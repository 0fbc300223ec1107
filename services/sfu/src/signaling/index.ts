/** `@quorum/sfu/signaling`: the SFU's WebSocket signaling and its reports to the gateway. */
export { SignalingServer, type SignalingServerOptions } from './signaling-server';
export { CLOSE_CODES } from './types';
export { HOST_CONTROL_SUBJECTS, HOST_CONTROL_TYPES, consumeHostControls } from './host-controls';
export {
  GatewayReporter,
  ReportRefused,
  type GatewayReporterOptions,
  type JoinReport,
  type LeaveReport,
  type SessionReporter,
} from './session-reporter';
