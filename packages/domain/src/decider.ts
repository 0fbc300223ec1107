/**
 * A decider (after Jérémie Chassaing, as in emmett): pure functions over commands, events
 * and state. The caller reads a stream, folds it with `evolve` from `initialState`, calls
 * `decide`, and appends what it returns with optimistic concurrency on the revision it read.
 */
export interface Decider<Command, Event, State> {
  /** State of a stream with no events. */
  readonly initialState: State;
  /**
   * Applies one event; total (never throws) so old streams always load. States are immutable:
   * a collection the event changes is copied, through `scope` when given (see {@link FoldScope}).
   */
  evolve(state: State, event: Event, scope?: FoldScope): State;
  /** Events the command produces, or throws an `AppError` refusal. Never empty. */
  decide(command: Command, state: State): Event[];
}

/**
 * Copy-on-write for one fold of many events. Copying a stream's map or set on every event that
 * changes it makes folding n events cost O(n²) (an organization with 12,000 invitations took
 * seconds to load); within one fold only the result is ever seen, so each collection needs
 * copying once: the first change copies it, and later changes in the same fold change that copy
 * in place. A collection of a state passed in is never changed.
 */
export class FoldScope {
  private readonly owned = new WeakSet<object>();

  /** `map` itself if this fold made it, else a copy this fold owns. */
  map<K, V>(map: ReadonlyMap<K, V>): Map<K, V> {
    if (this.owned.has(map)) return map as Map<K, V>;
    const copy = new Map(map);
    this.owned.add(copy);
    return copy;
  }

  /** `set` itself if this fold made it, else a copy this fold owns. */
  set<T>(set: ReadonlySet<T>): Set<T> {
    if (this.owned.has(set)) return set as Set<T>;
    const copy = new Set(set);
    this.owned.add(copy);
    return copy;
  }
}

/** Folds `events` over `state` (by default `decider.initialState`), copying each collection at most once. */
export function foldEvents<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  events: readonly Event[],
  state: State = decider.initialState,
): State {
  const scope = new FoldScope();
  let folded = state;
  for (const event of events) folded = decider.evolve(folded, event, scope);
  return folded;
}
