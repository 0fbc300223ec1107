/**
 * Quorum's live JavaScript heap, read through the V8 inspector of its process (started with
 * `--inspect=127.0.0.1:0`): a full collection, then the heap in use. What is left after a full
 * collection is what the process holds, so a sample is the live heap, not garbage waiting for a
 * collection.
 */
import WebSocket from 'ws';

export interface HeapProbe {
  /** Collects garbage in the main thread's isolate, then answers its heap in use, in MiB. */
  liveHeapMiB(): Promise<number>;
  close(): void;
}

/** The inspector's WebSocket address, from the line Node prints at start. */
export function inspectorUrlIn(output: readonly string[]): string | undefined {
  for (const line of output) {
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

export async function openHeapProbe(url: string): Promise<HeapProbe> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error.message));
    else waiter?.resolve(message.result);
  });
  const send = (method: string) =>
    new Promise<unknown>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method }));
    });
  return {
    async liveHeapMiB() {
      await send('HeapProfiler.collectGarbage');
      const usage = (await send('Runtime.getHeapUsage')) as { usedSize: number };
      return usage.usedSize / 1024 / 1024;
    },
    close: () => socket.close(),
  };
}
