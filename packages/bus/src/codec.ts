import { z } from 'zod';
import { BusError } from './bus-error';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Payloads travel as UTF-8 JSON. Encoding fails loudly (`INVALID`) on values JSON cannot carry
 * faithfully at the top level (undefined, functions, bigint, cycles) instead of sending `null`.
 */
export function encodePayload(payload: unknown, id: string): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (error) {
    throw new BusError('INVALID', `payload of message ${id} is not JSON-serializable`, { cause: error });
  }
  if (text === undefined) throw new BusError('INVALID', `payload of message ${id} is not JSON-serializable`);
  return encoder.encode(text);
}

export function decodePayload(data: Uint8Array, id: string): unknown {
  try {
    return JSON.parse(decoder.decode(data)) as unknown;
  } catch (error) {
    throw new BusError('DECODE', `payload of message ${id} is not UTF-8 JSON`, { cause: error });
  }
}

/** Positions are unsigned 64-bit integers carried as decimal strings. */
export const PositionStringSchema = z.string().regex(/^(0|[1-9]\d*)$/, 'position must be a decimal integer');

/** Ids become Nats-Msg-Id headers: non-empty, single line. */
export const MessageIdSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\r\n]+$/, 'id must be a single line');
