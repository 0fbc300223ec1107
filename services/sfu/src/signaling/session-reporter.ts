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
}

export interface LeaveReport {
  orgId: string;
  sessionId: string;
  participantId: string;
  reason: 'left' | 'disconnected';
}

/** The port: where joins and leaves go. */
export interface SessionReporter {
  joined(report: JoinReport): Promise<void>;
  left(report: LeaveReport): Promise<void>;
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

  left(report: LeaveReport): Promise<void> {
    return this.call('sfu.participantLeft', report);
  }

  private async call(path: string, input: unknown): Promise<void> {
    const now = this.options.now ?? Date.now;
    const token = signServiceToken(this.options.subject, this.options.serviceSecret, Math.floor(now() / 1000));
    const res = await fetch(new URL(`/trpc/${path}`, this.options.gatewayUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-quorum-service-token': token },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    });
    const body = (await res.json().catch(() => undefined)) as { error?: { message: string; data?: { code?: string; reason?: string } } } | undefined;
    if (res.ok && body && !body.error) return;
    const code = body?.error?.data?.code ?? `HTTP_${res.status}`;
    throw new ReportRefused(code, body?.error?.data?.reason, body?.error?.message ?? `The gateway answered ${res.status}.`);
  }
}
