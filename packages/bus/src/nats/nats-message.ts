/** The headers the bus writes next to each payload, and reading a delivered message back. */
import type { JsMsg } from 'nats';
import { z } from 'zod';
import { BusError } from '../bus-error';
import { decodePayload, MessageIdSchema, PositionStringSchema } from '../codec';
import type { DeliveredMessage } from '../event-bus';

/** Header carrying the event's global position next to `Nats-Msg-Id`. */
export const POSITION_HEADER = 'Quorum-Position';
/** Header carrying the position of the event before this one in the store (`previousPosition`). */
export const PREVIOUS_POSITION_HEADER = 'Quorum-Previous-Position';
const MSG_ID_HEADER = 'Nats-Msg-Id';

const DeliveredHeadersSchema = z.object({
  id: MessageIdSchema,
  position: PositionStringSchema,
  previous: PositionStringSchema.optional(),
});

/** @throws {BusError} `DECODE` when the headers or the payload are not what this bus writes. */
export function decode(msg: JsMsg, subjectPrefix: string): DeliveredMessage {
  const parsed = DeliveredHeadersSchema.safeParse({
    id: msg.headers?.get(MSG_ID_HEADER),
    position: msg.headers?.get(POSITION_HEADER),
    // `get` answers '' for a missing header.
    previous: msg.headers?.get(PREVIOUS_POSITION_HEADER) || undefined,
  });
  if (!parsed.success) {
    throw new BusError(
      'DECODE',
      `message seq ${msg.seq} on ${msg.subject} lacks valid ${MSG_ID_HEADER}/${POSITION_HEADER} headers`,
    );
  }
  return {
    id: parsed.data.id,
    subject:
      subjectPrefix && msg.subject.startsWith(subjectPrefix) ? msg.subject.slice(subjectPrefix.length) : msg.subject,
    position: BigInt(parsed.data.position),
    ...(parsed.data.previous === undefined ? {} : { previousPosition: BigInt(parsed.data.previous) }),
    payload: decodePayload(msg.data, parsed.data.id),
    deliveryCount: msg.info.deliveryCount,
  };
}
