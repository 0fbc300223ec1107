/**
 * A room's ear: one ActiveSpeakerObserver for the whole room, and the audible microphones.
 *
 * Audible microphones: a room with more unmuted microphones than `audibleSpeakers` forwards the
 * sound of only that many, the ones heard most recently (an AudioLevelObserver beside the
 * ActiveSpeakerObserver, fed the same way). The others' audio consumers are paused on the server,
 * which the listeners' clients do not see: nothing arrives for a silent microphone, so their
 * decoders idle. A microphone heard above the threshold takes the slot of the one silent for the
 * longest, once that one has been silent for `audibleHoldMs`, so a conversation between a few
 * people is not cut. Video is not affected. `audibleSpeakers` 0 forwards every microphone.
 *
 * When the worker holding the observers dies, they move to a surviving router of the room.
 */
import type { types as ms } from 'mediasoup';
import type { MediaWorker } from '../media-worker';
import type { RoomContext } from './context';
import type { ConsumerRecord, ProducerRecord, RouterRecord } from './records';
import type { RoomRouters } from './routers';

interface Speaker {
  router: RouterRecord;
  observer: Promise<ms.ActiveSpeakerObserver>;
  /** Loudness of every microphone, for the audible ones; none when every microphone is forwarded. */
  levels: Promise<ms.AudioLevelObserver> | undefined;
  /** Producers added (or being added) to this observer. */
  observed: Set<string>;
}

/** Microphones an AudioLevelObserver reports per interval: every one in any real meeting. */
const AUDIO_LEVEL_MAX_ENTRIES = 256;

export class RoomSpeakers {
  private speaker: Speaker | undefined;
  /** Microphones last heard (producer id → ms), at most `audibleSpeakers`; see the module header. */
  private readonly audible = new Map<string, number>();

  constructor(
    private readonly ctx: RoomContext,
    private readonly routers: RoomRouters,
  ) {}

  /** Whether `router` holds the room's ActiveSpeakerObserver. */
  isOn(router: RouterRecord): boolean {
    return this.speaker?.router === router;
  }

  /** A new router of the room: the first one gets the observers. */
  routerCreated(router: RouterRecord): void {
    if (!this.speaker) this.start(router);
  }

  /** The worker died: observers there are gone, so they start again on a surviving router. */
  workerDied(worker: MediaWorker): void {
    if (this.speaker && this.speaker.router.worker === worker) {
      this.speaker = undefined;
      const survivor = this.ctx.routers.values().next().value;
      if (survivor) this.start(survivor);
    }
  }

  /** The room closed with its routers. */
  clear(): void {
    this.speaker = undefined;
  }

  /** A new mic producer: observe it, and it may start the gating. */
  micAdded(record: ProducerRecord): void {
    void this.observe(record);
    this.regate();
  }

  /** A mic producer closed: it gives up its slot. */
  micGone(producerId: string): void {
    this.audible.delete(producerId);
    this.regate();
  }

  /** The microphones forwarded now while the room gates them; `null` when it forwards every one. */
  audibleProducerIds(): string[] | null {
    return this.gating() ? [...this.audible.keys()] : null;
  }

  isGated(producerId: string, gating = this.gating()): boolean {
    const record = this.ctx.producers.get(producerId);
    return record?.producer.kind === 'audio' && gating && !this.audible.has(producerId);
  }

  /** Pauses or resumes audio consumers on the server as the audible microphones say. */
  regate(): void {
    const gating = this.gating();
    for (const peer of this.ctx.peers.values()) {
      for (const record of peer.consumers.values()) {
        if (record.consumer.kind !== 'audio') continue;
        const gated = this.isGated(record.producerId, gating);
        if (gated === record.gated) continue;
        record.gated = gated;
        applyPause(record).catch((err: unknown) => {
          if (!record.consumer.closed)
            this.ctx.log.warn({ err, consumerId: record.consumer.id }, 'could not gate an audio consumer');
        });
      }
    }
  }

  /** The room's ActiveSpeakerObserver on `router`, fed with every mic producer of the room. */
  private start(router: RouterRecord): void {
    const { ctx } = this;
    const { settings } = ctx;
    const observer = router.router.createActiveSpeakerObserver({ interval: settings.activeSpeakerIntervalMs });
    const levels =
      settings.audibleSpeakers > 0
        ? // Every microphone above the threshold is reported (not only the loudest few), so a speaker
          // holding a slot keeps it while a louder one talks over them.
          router.router.createAudioLevelObserver({
            maxEntries: AUDIO_LEVEL_MAX_ENTRIES,
            threshold: settings.audioLevelThresholdDbov,
            interval: settings.audioLevelIntervalMs,
          })
        : undefined;
    const speaker: Speaker = { router, observer, levels, observed: new Set() };
    this.speaker = speaker;
    levels?.then(
      (created) => created.on('volumes', (volumes) => this.heard(volumes.map((v) => v.producer.id))),
      (err: Error) => {
        if (ctx.closed || router.router.closed) return;
        // Without levels nobody becomes audible in a gated room: forward every microphone instead.
        ctx.log.error(
          { err, routerId: router.router.id },
          'could not create the AudioLevelObserver; forwarding every microphone',
        );
        if (this.speaker === speaker) speaker.levels = undefined;
        this.regate();
      },
    );
    for (const record of ctx.producers.values()) if (record.producer.kind === 'audio') void this.observe(record);
    observer.then(
      (created) => {
        created.on('dominantspeaker', ({ producer }) => {
          const record = ctx.producers.get(producer.id);
          if (record)
            ctx.notify('activeSpeakerChanged', { roomId: ctx.id, peerId: record.peer.id, producerId: producer.id });
        });
      },
      (err: Error) => {
        if (this.speaker === speaker) this.speaker = undefined;
        if (ctx.closed || router.router.closed) {
          ctx.log.debug(
            { err, routerId: router.router.id },
            'ActiveSpeakerObserver not created: its router closed meanwhile',
          );
        } else {
          ctx.log.error(
            { err, routerId: router.router.id },
            'could not create the ActiveSpeakerObserver; the room has no active speaker detection',
          );
        }
      },
    );
  }

  /** Never rejects: speaker detection is best effort and must not fail a produce(). */
  private async observe(record: ProducerRecord): Promise<void> {
    const speaker = this.speaker;
    if (!speaker || speaker.observed.has(record.producer.id)) return;
    speaker.observed.add(record.producer.id);
    try {
      const observer = await speaker.observer;
      await this.routers.pipeTo(record, speaker.router);
      if (observer.closed || record.producer.closed || this.speaker !== speaker) return;
      await observer.addProducer({ producerId: record.producer.id });
      const levels = await speaker.levels;
      if (levels && !levels.closed && !record.producer.closed)
        await levels.addProducer({ producerId: record.producer.id });
    } catch (err) {
      // Typically the producer or the router closed meanwhile; the producer still forwards.
      this.ctx.log.warn({ err, producerId: record.producer.id }, 'mic producer not added to the ActiveSpeakerObserver');
    }
  }

  /** Whether the room gates microphones now: more unmuted ones than `audibleSpeakers`, and levels to choose by. */
  private gating(): boolean {
    const { audibleSpeakers } = this.ctx.settings;
    if (audibleSpeakers === 0 || !this.speaker?.levels) return false;
    let unmuted = 0;
    for (const p of this.ctx.producers.values()) if (p.producer.kind === 'audio' && !p.producer.paused) unmuted++;
    return unmuted > audibleSpeakers;
  }

  /** The AudioLevelObserver heard these microphones (loudest first). */
  private heard(producerIds: string[]): void {
    const now = Date.now();
    const { audibleSpeakers, audibleHoldMs } = this.ctx.settings;
    // Those holding a slot first, so a newcomer never takes the slot of someone heard right now.
    const newcomers: string[] = [];
    for (const id of producerIds) {
      if (this.audible.has(id)) this.audible.set(id, now);
      else if (this.ctx.producers.has(id)) newcomers.push(id);
    }
    let changed = false;
    for (const id of newcomers) {
      if (this.audible.size >= audibleSpeakers) {
        let quietest: [string, number] | undefined;
        for (const entry of this.audible) if (!quietest || entry[1] < quietest[1]) quietest = entry;
        // Every slot holds someone heard within the hold: this one waits for a slot.
        if (!quietest || now - quietest[1] < audibleHoldMs) continue;
        this.audible.delete(quietest[0]);
      }
      this.audible.set(id, now);
      changed = true;
    }
    if (changed) this.regate();
  }
}

/** Brings the consumer's paused state on the worker in line with the client's and the gate's, in call order. */
export function applyPause(record: ConsumerRecord): Promise<void> {
  const run = record.pausing.then(async () => {
    const { consumer } = record;
    if (consumer.closed) return;
    const paused = record.clientPaused || record.gated;
    if (paused && !consumer.paused) await consumer.pause();
    else if (!paused && consumer.paused) await consumer.resume();
  });
  record.pausing = run.catch(() => undefined);
  return run;
}
