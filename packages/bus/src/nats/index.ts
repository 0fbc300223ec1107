export { NatsBus, POSITION_HEADER, type NatsBusOptions } from './nats-bus';
