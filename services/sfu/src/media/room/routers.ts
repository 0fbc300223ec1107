/**
 * A room's routers (at most one per worker), where its peers go, and the pipes between them.
 *
 * Placement (see `../placement.ts`): a peer is placed on one router when it joins and all its
 * transports live there. While the room's current worker is under the consumer budget, new
 * peers go to its router; past it, the room takes the least loaded other worker (creating a
 * router of the room there if needed) and that becomes the current worker.
 *
 * Pipes: a producer lives on its peer's router. The first time a peer on another router consumes
 * it, it is piped there with `router.pipeToRouter()` (default options: no SRTP, 127.0.0.1) and
 * the pipe is kept for every later consumer on that router: each producer is piped at most once
 * per destination router, lazily, so routers that nobody on them consumes from cost nothing.
 * mic producers are also piped eagerly into the router holding the room's ActiveSpeakerObserver,
 * so one observer hears the whole room. A pipe producer keeps the producer's id, so a producer
 * id means the same thing on every router. Pipes only ever join routers on different workers
 * (one router per worker and room), which also avoids mediasoup 3.12's same-worker pipe bug
 * (versatica/mediasoup#1602).
 */
import { notFound, preconditionFailed } from '@quorum/domain';
import type { MediaWorker } from '../media-worker';
import { choosePlacement, type WorkerPlacement } from '../placement';
import type { RoomContext } from './context';
import type { ProducerRecord, RouterRecord } from './records';

export class RoomRouters {
  private readonly creations = new Map<MediaWorker, Promise<RouterRecord>>();
  /** `<producerId>-><routerId>` → the pipe (or its creation in flight). */
  private readonly pipes = new Map<string, Promise<void>>();
  /** Where new peers go while it is under the consumer budget. */
  current: MediaWorker | undefined;

  constructor(
    private readonly ctx: RoomContext,
    /** Called with every router the room creates (the first one gets the ActiveSpeakerObserver). */
    private readonly onCreated: (router: RouterRecord) => void,
  ) {}

  get pipeKeys(): string[] {
    return [...this.pipes.keys()];
  }

  place(): { worker: MediaWorker; placement: WorkerPlacement } {
    const { ctx } = this;
    const live = ctx.liveWorkers();
    const placement = choosePlacement({
      workers: live.map((w) => ({ index: w.index, consumers: w.consumers })),
      roomWorkerIndexes: new Set([...ctx.routers.values()].map((r) => r.worker.index)),
      currentWorkerIndex: this.current?.alive ? this.current.index : undefined,
      consumerBudget: ctx.settings.consumerBudgetPerWorker,
    });
    const worker = placement && live.find((w) => w.index === placement.workerIndex);
    if (!placement || !worker)
      throw preconditionFailed('sfu.no_worker', 'no mediasoup worker is alive', { roomId: ctx.id });
    return { worker, placement };
  }

  /** The room's router on `worker`, created on first use (concurrent callers share one creation). */
  async on(worker: MediaWorker): Promise<RouterRecord> {
    for (const record of this.ctx.routers.values()) if (record.worker === worker) return record;
    let pending = this.creations.get(worker);
    if (!pending) {
      pending = this.create(worker).finally(() => this.creations.delete(worker));
      this.creations.set(worker, pending);
    }
    return pending;
  }

  /** Pipes the producer into `target` once (see the module header); a no-op on its own router. */
  async pipeTo(record: ProducerRecord, target: RouterRecord): Promise<void> {
    if (record.router === target) return;
    const key = `${record.producer.id}->${target.router.id}`;
    let pipe = this.pipes.get(key);
    if (!pipe) {
      pipe = this.createPipe(record, target, key);
      this.pipes.set(key, pipe);
    }
    try {
      await pipe;
    } catch (err) {
      if (record.producer.closed)
        throw notFound('sfu.producer_not_found', `producer ${record.producer.id} is closed`, { cause: err });
      throw err;
    }
  }

  private async create(worker: MediaWorker): Promise<RouterRecord> {
    const { ctx } = this;
    const router = await worker.createRouter({ roomId: ctx.id });
    if (ctx.closed) {
      router.close();
      throw preconditionFailed('sfu.room_closed', `room ${ctx.id} is closed`, { roomId: ctx.id });
    }
    const record: RouterRecord = { router, worker, peerIds: new Set() };
    ctx.routers.set(router.id, record);
    // On worker death the record stays until Room.handleWorkerDied() collects it.
    router.observer.once('close', () => {
      if (!worker.worker.died) ctx.routers.delete(router.id);
    });
    this.onCreated(record);
    ctx.log.info({ routerId: router.id, workerIndex: worker.index }, 'router created');
    return record;
  }

  private async createPipe(record: ProducerRecord, target: RouterRecord, key: string): Promise<void> {
    try {
      const { pipeProducer } = await record.router.router.pipeToRouter({
        producerId: record.producer.id,
        router: target.router,
        listenIp: this.ctx.settings.listenIp,
      });
      if (!pipeProducer) throw new Error(`pipeToRouter gave no pipe producer for ${key}`);
      if (pipeProducer.closed) this.pipes.delete(key);
      else pipeProducer.observer.once('close', () => this.pipes.delete(key));
      this.ctx.log.debug(
        { producerId: record.producer.id, from: record.router.router.id, to: target.router.id },
        'producer piped',
      );
    } catch (err) {
      this.pipes.delete(key);
      throw err;
    }
  }
}
