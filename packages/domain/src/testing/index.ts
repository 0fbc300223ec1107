/** Test kit of the domain for other packages' tests: a valid sample of every event type. */
export { EVENT_SAMPLES } from './event-samples';
