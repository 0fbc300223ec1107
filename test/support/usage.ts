/**
 * Usage for tests: `usage.recorded` events appended straight to the store (standing in for the
 * metering consumer), plain-HTTP GETs of routes such as the CSV export, and an RFC 4180 reader.
 */
import { randomUUID } from 'node:crypto';
import { currentVersionOf, streamIds, usagePeriodOf, type UsageEvent } from '@quorum/domain';
import type { EventStore, NewEvent } from '@quorum/eventstore';
import type { CallOptions, TrpcFailure } from './http-client';

export type UsageMeter = 'participant_minutes' | 'meeting_minutes';

export interface UsageInterval {
  meter: UsageMeter;
  sessionId: string;
  hostUserId: string;
  /** ISO start, whole seconds. */
  from: string;
  seconds: number;
}

export type UsageRecordedData = Extract<UsageEvent, { type: 'usage.recorded' }>['data'];

/** Appends one `usage.recorded` per interval to the organization's usage streams (by month). */
export async function appendUsage(
  store: EventStore,
  orgId: string,
  intervals: readonly UsageInterval[],
): Promise<{ events: Array<{ id: string; data: UsageRecordedData }>; position: string }> {
  const byStream = new Map<string, NewEvent[]>();
  const events: Array<{ id: string; data: UsageRecordedData }> = [];
  for (const i of intervals) {
    const from = new Date(i.from);
    const data: UsageRecordedData = {
      meter: i.meter,
      sessionId: i.sessionId,
      hostUserId: i.hostUserId,
      participantId: i.meter === 'participant_minutes' ? randomUUID() : null,
      stint: randomUUID(),
      period: usagePeriodOf(from),
      from: from.toISOString(),
      to: new Date(from.getTime() + i.seconds * 1000).toISOString(),
      seconds: i.seconds,
      sources: [randomUUID(), randomUUID()],
    };
    const id = randomUUID();
    events.push({ id, data });
    const stream = streamIds.usage(orgId, data.period);
    byStream.set(stream, [
      ...(byStream.get(stream) ?? []),
      {
        id,
        type: 'usage.recorded',
        version: currentVersionOf('usage.recorded'),
        data,
        metadata: { orgId, actor: { kind: 'system', id: 'metering' }, correlationId: randomUUID(), causationId: null },
      },
    ]);
  }
  let position = 0n;
  for (const [stream, batch] of byStream) {
    const appended = await store.appendToStream(stream, batch);
    if (appended.position > position) position = appended.position;
  }
  return { events, position: position.toString() };
}

/** A GET of a plain HTTP route with the credentials of `o`. */
export async function getRoute(
  baseUrl: string,
  path: string,
  query: Record<string, string>,
  o: CallOptions = {},
  method: 'GET' | 'HEAD' | 'POST' = 'GET',
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.apiKey) headers['x-api-key'] = o.apiKey;
  if (o.cookie) headers.cookie = o.cookie;
  return fetch(`${baseUrl}${path}?${new URLSearchParams(query).toString()}`, { method, headers });
}

/** A refusal of a plain HTTP route, read as the tRPC error JSON it answers. */
export async function routeFailure(res: Response): Promise<TrpcFailure> {
  const body = (await res.json()) as {
    error: { message: string; data: { code: string; fieldErrors?: TrpcFailure['fieldErrors']; reason?: string } };
  };
  return {
    status: res.status,
    code: body.error.data.code,
    message: body.error.message,
    ...(body.error.data.fieldErrors ? { fieldErrors: body.error.data.fieldErrors } : {}),
    ...(body.error.data.reason ? { reason: body.error.data.reason } : {}),
  };
}

/**
 * Reads RFC 4180 CSV: fields split by commas, records by CRLF, quoted fields may hold commas,
 * CR, LF and doubled quotes. Throws on a bare LF or CR outside quotes, or a stray quote, so a
 * writer that breaks the format fails the test.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      if (field !== '') throw new Error(`a quote inside an unquoted field at ${i}`);
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('an unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i];
        i++;
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\r') throw new Error(`text after a closing quote at ${i}`);
      continue;
    }
    if (c === ',') {
      record.push(field);
      field = '';
      i++;
      continue;
    }
    if (c === '\r') {
      if (text[i + 1] !== '\n') throw new Error(`a CR without LF at ${i}`);
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
      continue;
    }
    if (c === '\n') throw new Error(`a bare LF at ${i}`);
    field += c;
    i++;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}
