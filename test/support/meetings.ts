/**
 * Meetings for integration tests, over plain HTTP: creating them, and reporting joins and
 * leaves as an SFU node does (with a service token signed by the test Quorum's secret).
 */
import { SignalingRequestError } from '@quorum/sfu/signaling/testing';
import { signServiceToken } from '@quorum/signaling/tokens';
import type { createHttpClient } from './http-client';
import type { TestQuorum } from './test-quorum';

type Client = ReturnType<typeof createHttpClient>;

/** A service token for `q`, as an SFU node would sign it. */
export function serviceToken(q: TestQuorum, subject = 'sfu:test'): string {
  return signServiceToken(subject, q.env.SFU_SERVICE_SECRET!, Math.floor(Date.now() / 1000));
}

/** Creates an instant meeting as `creds`; returns its id and the append position. */
export async function createMeeting(
  http: Client,
  orgId: string,
  creds: { token?: string; apiKey?: string },
  options: { title?: string; hostUserId?: string } = {},
): Promise<{ sessionId: string; position: string }> {
  return http.mutation(
    'meetings.create',
    { orgId, title: options.title ?? 'Planning', ...(options.hostUserId ? { hostUserId: options.hostUserId } : {}) },
    creds,
  );
}

/** Reports that `participantId` connected, as the SFU does. */
export function reportJoined(
  q: TestQuorum,
  orgId: string,
  sessionId: string,
  participantId: string,
  displayName = 'Participant',
) {
  return q.http.mutation(
    'sfu.participantJoined',
    { orgId, sessionId, participantId, displayName },
    { serviceToken: serviceToken(q) },
  );
}

/** Reports that `participantId` left, as the SFU does. */
export function reportLeft(
  q: TestQuorum,
  orgId: string,
  sessionId: string,
  participantId: string,
  reason: 'left' | 'disconnected' = 'left',
) {
  return q.http.mutation(
    'sfu.participantLeft',
    { orgId, sessionId, participantId, reason },
    { serviceToken: serviceToken(q) },
  );
}

/** The SFU's refusal of a signaling request that must be refused. */
export async function signalingRefusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    if (err instanceof SignalingRequestError) return err.error;
    throw err;
  }
  throw new Error('expected a refusal');
}
