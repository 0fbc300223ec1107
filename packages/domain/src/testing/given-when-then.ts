/**
 * given(decider, events).when(command).then(events) | .thenThrows(code, reason | /message/).
 * Internal to this package's tests (not exported): the package's only entry is `index.ts`.
 */
import { expect } from 'vitest';
import { foldEvents, type Decider } from '../decider';
import { AppError, type AppErrorCode } from '../errors';

export interface Then<Event> {
  /** Asserts the command produced exactly `expected`, in order. */
  then(expected: Event[]): void;
  /** Asserts the command was refused with `code` and the reason slug (string) or a message matching (RegExp). */
  thenThrows(code: AppErrorCode, reasonOrMessage: string | RegExp): AppError;
}

export function given<Command, Event, State>(decider: Decider<Command, Event, State>, events: readonly Event[] = []) {
  const state = foldEvents(decider, events);
  return {
    state,
    when(command: Command): Then<Event> {
      const run = () => decider.decide(command, state);
      return {
        then(expected) {
          expect(run()).toEqual(expected);
        },
        thenThrows(code, reasonOrMessage) {
          let caught: unknown;
          try {
            run();
          } catch (error) {
            caught = error;
          }
          expect(caught, 'expected the command to be refused').toBeInstanceOf(AppError);
          const error = caught as AppError;
          expect(error.code).toBe(code);
          if (typeof reasonOrMessage === 'string') expect(error.reason).toBe(reasonOrMessage);
          else expect(error.message).toMatch(reasonOrMessage);
          return error;
        },
      };
    },
  };
}
