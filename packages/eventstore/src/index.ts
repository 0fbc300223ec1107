export type {
  Actor,
  AllSubscription,
  AppendOptions,
  AppendResult,
  EventMetadata,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamGuard,
  SubscribeToAllOptions,
} from './event-store';
export { DuplicateEventIdError, InvalidAppendError, WrongExpectedRevisionError } from './errors';
export { ChangeNotifier, createCatchUpSubscription, pause } from './catch-up-subscription';
export type { CatchUpSubscriptionOptions } from './catch-up-subscription';
export { parseWireEvent, streamCategory, toWireEvent } from './wire';
export type { WireEvent } from './wire';
export { uuidV5 } from './ids';
