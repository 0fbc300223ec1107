import { BusError } from './bus-error';

/** Name of the JetStream stream (and of the memory bus's single log) holding every event. */
export const EVENTS_STREAM = 'EVENTS';
/** Subjects captured by {@link EVENTS_STREAM}. */
export const EVENTS_SUBJECTS = 'evt.>';
/** Publishes with an id seen within this window are acknowledged as duplicates, not stored. */
export const DUPLICATE_WINDOW_MS = 120_000;

const FORBIDDEN_TOKEN = /[\s*>]/;

function checkToken(token: string, what: string): void {
  if (token.length === 0) throw new BusError('INVALID', `${what} must not be empty`);
  if (FORBIDDEN_TOKEN.test(token)) {
    throw new BusError('INVALID', `${what} must not contain whitespace, '*' or '>': ${JSON.stringify(token)}`);
  }
}

/**
 * The subject an event is published on: `evt.<orgId>.<category>.<type>`.
 *
 * Dots in `type` (`seat.assigned`) become `_` so the subject always has exactly four tokens and
 * `evt.<orgId>.>` / `evt.*.<category>.*` filters stay meaningful. `orgId` and `category` must
 * not contain dots; no token may be empty or contain whitespace, `*` or `>`.
 *
 * @throws {BusError} `INVALID` for a bad token.
 */
export function eventSubject(orgId: string, category: string, type: string): string {
  checkToken(orgId, 'orgId');
  checkToken(category, 'category');
  if (orgId.includes('.')) throw new BusError('INVALID', `orgId must not contain '.': ${JSON.stringify(orgId)}`);
  if (category.includes('.')) {
    throw new BusError('INVALID', `category must not contain '.': ${JSON.stringify(category)}`);
  }
  const typeToken = type.replaceAll('.', '_');
  checkToken(typeToken, 'type');
  return `evt.${orgId}.${category}.${typeToken}`;
}

/** Filter matching every event of one organization: `evt.<orgId>.>`. */
export function orgSubjectFilter(orgId: string): string {
  checkToken(orgId, 'orgId');
  if (orgId.includes('.')) throw new BusError('INVALID', `orgId must not contain '.': ${JSON.stringify(orgId)}`);
  return `evt.${orgId}.>`;
}

/**
 * Checks a concrete publish subject: dot-separated, no empty token, no wildcard, no whitespace.
 * @throws {BusError} `INVALID`.
 */
export function assertPublishSubject(subject: string): void {
  for (const token of subject.split('.')) checkToken(token, `token of subject ${JSON.stringify(subject)}`);
}

/**
 * Checks a consumer filter: like a subject, but a token may be exactly `*`, and the last token
 * may be exactly `>`.
 * @throws {BusError} `INVALID`.
 */
export function assertFilterSubject(filter: string): void {
  const tokens = filter.split('.');
  tokens.forEach((token, index) => {
    if (token === '*') return;
    if (token === '>' && index === tokens.length - 1) return;
    checkToken(token, `token of filter ${JSON.stringify(filter)}`);
  });
}

/** NATS subject matching: `*` matches one token, a trailing `>` one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    const token = f[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return f.length === s.length;
}
