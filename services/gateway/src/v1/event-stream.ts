/**
 * `GET /v1/orgs/{orgId}/events/stream`: the feed of `events.live` as Server-Sent Events of
 * public envelopes (`id: <sequence>`, `event: <CloudEvents type>`, `data: <envelope>`), so a
 * browser's `EventSource` or any SSE client resumes with `Last-Event-ID`.
 *
 * Backpressure: the next group of events is taken from the feed only once the socket accepted
 * the last (`res.write` returned true, or `drain` came), so at most one group (a page, at most
 * 100 events) waits in memory per stream. A consumer that keeps the socket full longer than `slowConsumerMs`, or lets more than
 * `maxBufferedBytes` wait, is cut off with `event: error` (`consumer_too_slow`) instead of being
 * buffered for. A revoked credential ends the stream at once (`credentials.watch`), on whichever
 * gateway it was revoked; the feed re-checks the role every few seconds and on a membership
 * change.
 */
import type { ServerResponse } from 'node:http';
import { toPublicEvent } from '@quorum/domain';
import type { WireEvent } from '@quorum/eventstore';
import type { AuthedContext } from '../trpc';
import { errorAnswer } from './v1-errors';

export interface EventStreamSettings {
  /** A comment line this often keeps proxies and clients from timing the stream out. */
  heartbeatMs: number;
  /** How long the socket may stay full before the consumer is cut off. */
  slowConsumerMs: number;
  /** Bytes that may wait unsent before the consumer is cut off. */
  maxBufferedBytes: number;
  /** The `retry:` hint: how long a client waits before reconnecting. */
  retryMs: number;
}

export const DEFAULT_EVENT_STREAM_SETTINGS: EventStreamSettings = {
  heartbeatMs: 15_000,
  slowConsumerMs: 30_000,
  maxBufferedBytes: 1024 * 1024,
  retryMs: 2_000,
};

/** How long a closing stream's last words may take to leave before the socket is dropped. */
const FAREWELL_MS = 10_000;

/**
 * The SSE message of each event, made once: the feeds of one organization hand out the same
 * event objects from its shared tail, so a thousand streams share one envelope and one
 * `JSON.stringify`. Keyed weakly, it lives as long as the event does.
 */
const messages = new WeakMap<WireEvent, { baseUrl: string; message: string | undefined }>();

function messageOf(event: WireEvent, baseUrl: string): string | undefined {
  const made = messages.get(event);
  if (made?.baseUrl === baseUrl) return made.message;
  const envelope = toPublicEvent(event, baseUrl);
  const message = envelope
    ? `id: ${envelope.sequence}\nevent: ${envelope.type}\ndata: ${JSON.stringify(envelope)}\n\n`
    : undefined;
  messages.set(event, { baseUrl, message });
  return message;
}

/**
 * The SSE text of a group of events, made once: feeds at the same cursor get the same group
 * from the shared tail (`TailPage`), so a thousand streams at the head write one string each,
 * made once, for each batch the tail reads.
 */
const chunks = new WeakMap<readonly WireEvent[], { baseUrl: string; chunk: string }>();

export function chunkOf(events: readonly WireEvent[], baseUrl: string): string {
  const made = chunks.get(events);
  if (made?.baseUrl === baseUrl) return made.chunk;
  let chunk = '';
  for (const event of events) chunk += messageOf(event, baseUrl) ?? '';
  chunks.set(events, { baseUrl, chunk });
  return chunk;
}

/** Why a stream ended, as its final `event: error` says. */
export interface StreamEnd {
  reason: string;
  message: string;
}

/** The open streams of one gateway, so closing it ends them (their clients resume elsewhere). */
export function createEventStreams(settings: EventStreamSettings) {
  const open = new Set<(end: StreamEnd) => void>();

  async function serve(
    ctx: AuthedContext,
    res: ServerResponse,
    orgId: string,
    /** The feed's events in the groups they come in (`LiveFeed.pages`). */
    pages: AsyncIterable<readonly WireEvent[]>,
    baseUrl: string,
    stop: () => void,
  ): Promise<void> {
    let ended = false;
    let draining: ((drained: boolean) => void) | undefined;
    const end = (why: StreamEnd) => {
      if (ended) return;
      ended = true;
      draining?.(false);
      if (!res.destroyed) {
        res.end(`event: error\ndata: ${JSON.stringify(why)}\n\n`);
        // A consumer that does not read never lets the end through; its socket goes after a grace.
        const farewell = setTimeout(() => res.destroy(), FAREWELL_MS);
        farewell.unref();
        res.once('close', () => clearTimeout(farewell));
      }
      stop();
    };
    open.add(end);
    res.once('close', () => {
      ended = true;
      draining?.(false);
      stop();
    });
    const unwatch = ctx.deps.credentials.watch({ principal: ctx.principal, orgId }, (reason) => {
      // A membership change is checked by the feed itself on its next page.
      if (reason === 'membership_changed') return;
      ctx.log.info({ reason }, 'ending an event stream whose credential no longer holds');
      end({ reason: `credential.${reason}`, message: `The stream's credential no longer holds (${reason}).` });
    });

    /**
     * Resolves true when the full socket drains, false when it stays full past the bound or the
     * stream ends; one wait at a time, shared by the events and the heartbeats.
     */
    let drained: Promise<boolean> | undefined;
    const whenDrained = () =>
      (drained ??= new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => settle(false), settings.slowConsumerMs);
        const onDrain = () => settle(true);
        const settle = (ok: boolean) => {
          clearTimeout(timer);
          res.off('drain', onDrain);
          draining = undefined;
          drained = undefined;
          resolve(ok);
        };
        draining = settle;
        res.once('drain', onDrain);
      }));
    const cutOff = () => {
      if (ended) return;
      ctx.log.info({ buffered: res.writableLength }, 'cutting off a slow event stream consumer');
      end({
        reason: 'consumer_too_slow',
        message: `The consumer did not keep up (the socket stayed full over ${settings.slowConsumerMs} ms); reconnect with Last-Event-ID to resume.`,
      });
    };
    /**
     * Events handed out together (a page of the feed, the events of one projection batch) leave
     * in one socket write: the first write corks the response and the next turn of the event
     * loop uncorks it, instead of a system call per event and stream.
     */
    let corked = false;
    const uncork = () => {
      corked = false;
      res.uncork();
    };
    /** Writes `chunk`; false once the consumer is cut off or gone. */
    const write = async (chunk: string): Promise<boolean> => {
      if (ended) return false;
      if (!corked) {
        corked = true;
        res.cork();
        setImmediate(uncork);
      }
      const accepted = res.write(chunk);
      if (accepted && res.writableLength <= settings.maxBufferedBytes) return true;
      if (res.writableLength > settings.maxBufferedBytes || !(await whenDrained())) {
        cutOff();
        return false;
      }
      return !ended;
    };

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': ctx.requestId,
    });
    res.socket?.setNoDelay(true);
    const heartbeat = setInterval(() => {
      // A full socket needs no heartbeat, only the wait for it, which has its own bound; a
      // heartbeat the socket does not take starts that wait, so a consumer that stops reading
      // while the organization is quiet is cut off too rather than buffered for.
      if (draining || ended) return;
      if (!res.write(': heartbeat\n\n'))
        void whenDrained().then((ok) => {
          if (!ok) cutOff();
        });
    }, settings.heartbeatMs);
    try {
      if (!(await write(`retry: ${settings.retryMs}\n: stream of ${orgId}\n\n`))) return;
      for await (const page of pages) {
        if (ended) break;
        const chunk = chunkOf(page, baseUrl);
        if (chunk === '') continue;
        if (!(await write(chunk))) break;
      }
      end({ reason: 'stream.ended', message: 'The stream ended; reconnect with Last-Event-ID to resume.' });
    } catch (err) {
      const { body } = errorAnswer(err, ctx.requestId, ctx.log);
      end({ reason: body.error.reason, message: body.error.message });
    } finally {
      clearInterval(heartbeat);
      unwatch();
      open.delete(end);
    }
  }

  return {
    serve,
    /** Streams open now. */
    get size() {
      return open.size;
    },
    /** Ends every open stream with `why` (the server is shutting down). */
    closeAll(why: StreamEnd) {
      for (const end of [...open]) end(why);
    },
  };
}

export type EventStreams = ReturnType<typeof createEventStreams>;
