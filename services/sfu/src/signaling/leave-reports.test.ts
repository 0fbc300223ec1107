import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LeaveReports } from './leave-reports';
import { ReportRefused, type LeaveReport, type SessionReporter } from './session-reporter';

/** A reporter port answering from a script: an Error rejects that attempt, `ok` takes it. */
function scripted(answers: Array<'ok' | Error>) {
  const attempts: LeaveReport[] = [];
  const reporter: SessionReporter = {
    joined: async () => undefined,
    left: async (report) => {
      attempts.push(report);
      const next = answers.shift() ?? new Error('no more answers scripted');
      if (next !== 'ok') throw next;
    },
  };
  return { reporter, attempts };
}

const logger = pino({ level: 'silent' });
const leave = (participantId = 'p1'): LeaveReport => ({
  orgId: 'o',
  sessionId: 's',
  participantId,
  reason: 'left',
  at: '2026-11-24T10:00:00.000Z',
});
const unreachable = () => Object.assign(new TypeError('fetch failed'), { cause: new Error('ECONNREFUSED') });
const settled = async (reports: LeaveReports) => {
  while (reports.size > 0) await new Promise((r) => setTimeout(r, 5));
};

describe('LeaveReports', () => {
  it('tries again while the gateway does not answer or answers 5xx, then stops once it is taken', async () => {
    const { reporter, attempts } = scripted([
      unreachable(),
      new ReportRefused('HTTP_502', undefined, 'bad gateway'),
      new ReportRefused('CONFLICT', 'command.conflict', 'raced'),
      'ok',
    ]);
    const reports = new LeaveReports({ reporter, logger, firstDelayMs: 5, maxDelayMs: 20 });
    reports.report(leave());
    expect(reports.size).toBe(1);
    await settled(reports);
    expect(attempts).toHaveLength(4);
    // The same report every time: same time stamp, so the same Idempotency-Key.
    expect(new Set(attempts.map((a) => JSON.stringify(a))).size).toBe(1);
  });

  it('does not ask again after a refusal', async () => {
    const { reporter, attempts } = scripted([
      new ReportRefused('PRECONDITION_FAILED', 'session.ended', 'This meeting has ended.'),
    ]);
    const reports = new LeaveReports({ reporter, logger, firstDelayMs: 5 });
    reports.report(leave());
    await settled(reports);
    expect(attempts).toHaveLength(1);
  });

  it('gives up after retryForMs', async () => {
    // The clock is the test's: each failed attempt moves it 10 ms, however late the timers fire.
    let clock = 0;
    const attempts: LeaveReport[] = [];
    const reporter: SessionReporter = {
      joined: async () => undefined,
      left: async (report) => {
        attempts.push(report);
        clock += 10;
        throw unreachable();
      },
    };
    const reports = new LeaveReports({
      reporter,
      logger,
      firstDelayMs: 10,
      maxDelayMs: 10,
      retryForMs: 55,
      now: () => clock,
    });
    reports.report(leave());
    await settled(reports);
    // Failures at 10, 20, 30, 40 are followed by a pause that ends within 55 ms; after the one at 50 it would not.
    expect(attempts).toHaveLength(5);
  });

  it('cancels a pending leave of someone who came back, after the attempt in flight', async () => {
    let release!: () => void;
    const attempts: string[] = [];
    const reporter: SessionReporter = {
      joined: async () => undefined,
      left: (report) => {
        attempts.push(report.participantId);
        return new Promise((_, reject) => {
          release = () => reject(unreachable());
        });
      },
    };
    const reports = new LeaveReports({ reporter, logger, firstDelayMs: 60_000 });
    reports.report(leave('p1'));
    let cancelled = false;
    const cancelling = reports.cancel('s', 'p1').then(() => (cancelled = true));
    await new Promise((r) => setTimeout(r, 10));
    // The attempt on its way is waited for: the join that follows is decided after it.
    expect(cancelled).toBe(false);
    release();
    await cancelling;
    expect(reports.size).toBe(0);
    expect(attempts).toEqual(['p1']);
  });

  it('on flush, makes one last attempt at once for every leave still waiting', async () => {
    const { reporter, attempts } = scripted([unreachable(), unreachable(), unreachable(), 'ok']);
    const reports = new LeaveReports({ reporter, logger, firstDelayMs: 60_000 });
    reports.report(leave('p1'));
    reports.report(leave('p2'));
    await new Promise((r) => setTimeout(r, 10));
    expect(attempts.map((a) => a.participantId)).toEqual(['p1', 'p2']);
    const started = Date.now();
    await reports.flush();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(attempts.map((a) => a.participantId)).toEqual(['p1', 'p2', 'p1', 'p2']);
    expect(reports.size).toBe(0);
  });
});
