/**
 * A decider (after Jérémie Chassaing, as in emmett): pure functions over commands, events
 * and state. The caller reads a stream, folds it with `evolve` from `initialState`, calls
 * `decide`, and appends what it returns with optimistic concurrency on the revision it read.
 */
export interface Decider<Command, Event, State> {
  /** State of a stream with no events. */
  readonly initialState: State;
  /** Applies one event; total (never throws) so old streams always load. */
  evolve(state: State, event: Event): State;
  /** Events the command produces, or throws an `AppError` refusal. Never empty. */
  decide(command: Command, state: State): Event[];
}

/** Folds `events` over `decider.initialState`. */
export function foldEvents<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  events: readonly Event[],
): State {
  return events.reduce((state, event) => decider.evolve(state, event), decider.initialState);
}
