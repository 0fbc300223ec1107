/**
 * A TCP proxy for failure tests: in front of the gateway, of Redis, of anything on loopback.
 * `down`: every connection is reset at once and new ones are refused (reset), as when the
 * server restarts or the network drops. `loseAnswers`: requests reach the server, but the
 * connection is reset instead of answering.
 */
import { createServer, Socket, type Server } from 'node:net';

export class TcpProxy {
  private current: 'up' | 'down' | 'loseAnswers' = 'up';
  refused = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  get mode() {
    return this.current;
  }

  /** A new mode applies to every request from now: kept-alive connections are cut. */
  set mode(mode: 'up' | 'down' | 'loseAnswers') {
    this.current = mode;
    for (const s of this.sockets) s.destroy();
  }

  /** Listens on a free loopback port; resolves with it. */
  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('the proxy has no port');
    return address.port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => undefined);
    if (this.current === 'down') {
      this.refused++;
      client.resetAndDestroy();
      return;
    }
    const mode = this.current;
    const upstream = new Socket();
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    upstream.connect(this.target.port, this.target.host);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'loseAnswers') {
        this.refused++;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    upstream.on('end', () => client.end());
  }
}
