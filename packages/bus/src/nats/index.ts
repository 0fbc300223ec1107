export { NatsBus, type NatsBusOptions } from './nats-bus';
export { POSITION_HEADER } from './nats-message';
