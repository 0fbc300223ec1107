/**
 * Ends an exhaustive `switch`: the compiler rejects the call if a case is missing, and at run
 * time (a value from outside the type system) it throws instead of falling through silently.
 */
export function assertUnreachable(x: never): never {
  throw new Error(`Unreachable case reached: ${JSON.stringify(x)}`);
}
