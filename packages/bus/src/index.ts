export { BusError, type BusErrorCode } from './bus-error';
export {
  defaultRedeliveryDelayMs,
  lastContiguousPosition,
  type BusMessage,
  type ConsumeOptions,
  type Consumer,
  type DeliveredMessage,
  type EventBus,
  type PublishAck,
} from './event-bus';
export {
  DUPLICATE_WINDOW_MS,
  EVENTS_STREAM,
  EVENTS_SUBJECTS,
  eventSubject,
  orgSubjectFilter,
  subjectMatches,
} from './subject';
export { createMemoryBus, type MemoryBusOptions } from './memory/memory-bus';
