import type { IceServer } from '@quorum/signaling';

/** What `meetings.join` answers (the part the client uses). */
export interface JoinTicket {
  participantId: string;
  token: string;
  signalingUrl: string;
  iceServers: IceServer[];
}

/** `meetings.join` refused (locked, full, removed, ended, no access): not worth asking again. */
export class TicketRefused extends Error {
  constructor(
    message: string,
    /** The server's reason slug (`session.minutes_exhausted`), when it gave one. */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'TicketRefused';
  }
}
