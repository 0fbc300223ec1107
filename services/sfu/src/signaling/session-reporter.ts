/**
 * Reports participants joining and leaving to the gateway, as commands: POST
 * `/trpc/sfu.participantJoined|participantLeft` with a fresh service token per call. The
 * gateway decides them on the session stream; a refusal (locked, full, removed, ended) comes
 * back as a {@link ReportRefused} with the gateway's code, reason and message, which the
 * signaling server hands to the participant.
 */
import { signServiceToken } from '@quorum/signaling/tokens';

export interface JoinReport {
  orgId: string;
  sessionId: string;
  participantId: string;
  displayName: string;
  /** The join token presented (id and expiry in seconds), which the gateway takes once; absent when reporting someone already admitted again. */
  token?: { id: string; expiresAt: number };
}

export interface LeaveReport {
  orgId: string;
  sessionId: string;
  participantId: string;
  reason: 'left' | 'disconnected';
  /** When the SFU saw the participant go (ISO 8601); the report may land later. */
  at: string;
}

/** The port: where joins and leaves go. */
export interface SessionReporter {
  joined(report: JoinReport): Promise<void>;
  left(report: LeaveReport): Promise<void>;
}

/**
 * Whether asking again cannot change the answer: the gateway refused the report itself (bad
 * input, not allowed, not found, a rule of the meeting). Anything else (no answer, a timeout, a
 * 5xx, a lost race, too many requests) may go through on another attempt.
 */
export function isFinalRefusal(err: unknown): boolean {
  if (!(err instanceof ReportRefused)) return false;
  if (['CONFLICT', 'TIMEOUT', 'TOO_MANY_REQUESTS', 'HTTP_408', 'HTTP_429'].includes(err.code)) return false;
  return !/^(HTTP_5\d\d|INTERNAL_SERVER_ERROR|SERVICE_UNAVAILABLE|BAD_GATEWAY|GATEWAY_TIMEOUT|CLIENT_CLOSED_REQUEST)$/.test(
    err.code,
  );
}

/** The gateway refused a report; `code` is the tRPC code (`PRECONDITION_FAILED`, `FORBIDDEN`, ...). */
export class ReportRefused extends Error {
  constructor(
    readonly code: string,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ReportRefused';
  }
}

export interface GatewayReporterOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:3000`. */
  gatewayUrl: string;
  /** Shared with the gateway (`SFU_SERVICE_SECRET`). */
  serviceSecret: string;
  /** Who calls, e.g. `sfu:node-1`. */
  subject: string;
  /**
   * This run of the node (new each start), sent with every report, so the session stream knows
   * which run a participant is connected through and a dead run's leaves can be recorded for it.
   */
  instance?: string;
  /** Per-call timeout. Default 5,000 ms. */
  timeoutMs?: number;
  now?: () => number;
}

export class GatewayReporter implements SessionReporter {
  constructor(private readonly options: GatewayReporterOptions) {
    if (options.serviceSecret.length < 32) throw new Error('serviceSecret must have at least 32 characters');
  }

  joined(report: JoinReport): Promise<void> {
    return this.call('sfu.participantJoined', report);
  }

  /** One Idempotency-Key per leave: a retry of one that landed is answered, not recorded again. */
  left(report: LeaveReport): Promise<void> {
    return this.call('sfu.participantLeft', report, `leave:${report.sessionId}:${report.participantId}:${report.at}`);
  }

  private async call(path: string, input: unknown, idempotencyKey?: string): Promise<void> {
    const now = this.options.now ?? Date.now;
    const token = signServiceToken(this.options.subject, this.options.serviceSecret, Math.floor(now() / 1000));
    const res = await fetch(new URL(`/trpc/${path}`, this.options.gatewayUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-quorum-service-token': token,
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      body: JSON.stringify(
        this.options.instance === undefined ? input : { ...(input as object), instance: this.options.instance },
      ),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    });
    const body = (await res.json().catch(() => undefined)) as
      { error?: { message: string; data?: { code?: string; reason?: string } } } | undefined;
    if (res.ok && body && !body.error) return;
    const code = body?.error?.data?.code ?? `HTTP_${res.status}`;
    throw new ReportRefused(
      code,
      body?.error?.data?.reason,
      body?.error?.message ?? `The gateway answered ${res.status}.`,
    );
  }
}
