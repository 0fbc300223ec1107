/**
 * One live feed per open organization (`events.live` over SSE): every event of the
 * organization, from anyone, arrives as it is projected. Each one advances the organization's
 * `minPosition`, so every page of the console refreshes to include it without a reload, and
 * the activity page lists them as they come. Roles without `events.list` get no feed; their
 * pages refresh when opened or focused.
 */
import { createContext, useContext, useEffect, useRef, useState } from 'react';
import { errorCode } from './errors';
import { recordPosition } from './positions';
import { refreshSession, trpc, type RouterOutputs } from './trpc';

export type WireEvent = RouterOutputs['events']['list']['events'][number];
export type LiveState = 'off' | 'connecting' | 'live' | 'reconnecting';

export interface LiveFeed {
  state: LiveState;
  /** Events received since the feed opened, newest first (the most recent 500). */
  events: WireEvent[];
  /** Increases each time the feed (re)starts: reads made after it miss nothing the feed will not bring. */
  generation: number;
}

const KEEP = 500;

export const LiveContext = createContext<LiveFeed>({ state: 'off', events: [], generation: 0 });

export function useLive(): LiveFeed {
  return useContext(LiveContext);
}

export function useOrgLiveFeed(orgId: string, enabled: boolean): LiveFeed {
  const [state, setState] = useState<LiveState>(enabled ? 'connecting' : 'off');
  const [events, setEvents] = useState<WireEvent[]>([]);
  const [generation, setGeneration] = useState(0);
  const [attempt, setAttempt] = useState(0);
  const last = useRef<string | undefined>(undefined);

  useEffect(() => {
    if (!enabled) {
      setState('off');
      return;
    }
    let retry: ReturnType<typeof setTimeout> | undefined;
    // Resume after the newest event received, so a resubscription leaves no gap.
    const after = last.current;
    const sub = trpc.events.live.subscribe(
      { orgId, ...(after ? { after } : {}) },
      {
        onStarted: () => {
          setState('live');
          setGeneration((g) => g + 1);
        },
        onConnectionStateChange: (s) => {
          if (s.state === 'connecting') setState((previous) => (previous === 'live' ? 'reconnecting' : previous));
          if (s.state === 'pending') setState('live');
        },
        onData: ({ data: event }) => {
          last.current = event.position;
          setEvents((previous) =>
            previous.some((e) => e.position === event.position) ? previous : [event, ...previous].slice(0, KEEP),
          );
          recordPosition(orgId, event.position);
        },
        onError: (err) => {
          setState('reconnecting');
          // An expired session is renewed from the refresh cookie, then the feed resumes.
          const renew = errorCode(err) === 'UNAUTHORIZED' ? refreshSession() : Promise.resolve(true);
          void renew.then(() => {
            retry = setTimeout(() => setAttempt((n) => n + 1), 2_000);
          });
        },
      },
    );
    return () => {
      clearTimeout(retry);
      sub.unsubscribe();
    };
  }, [orgId, enabled, attempt]);

  return { state, events, generation };
}
