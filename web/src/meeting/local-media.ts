/**
 * This participant's own media: the microphone and camera tracks (chosen on the pre-join
 * screen, kept for the whole meeting, across rejoins), the screen share, and the device lists
 * for the pickers. Turning a device off disables its track (the calls stop sending it); the
 * track itself stays, so turning it on again is instant.
 */

export interface Devices {
  audio: Array<{ deviceId: string; label: string }>;
  video: Array<{ deviceId: string; label: string }>;
}

export interface LocalMediaSnapshot {
  mic: MediaStreamTrack | null;
  camera: MediaStreamTrack | null;
  screen: MediaStreamTrack | null;
  micOn: boolean;
  cameraOn: boolean;
  devices: Devices;
  audioDeviceId: string | null;
  videoDeviceId: string | null;
  /** Why a device could not be opened, in words. */
  error: string | null;
  starting: boolean;
}

/** Video the camera is asked for: enough for the SFU's top simulcast layer. */
export const CAMERA_CONSTRAINTS: MediaTrackConstraints = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 24, max: 30 },
};

function deviceError(err: unknown, what: string): string {
  const name = (err as { name?: string } | null)?.name;
  if (name === 'NotAllowedError')
    return `The browser was not allowed to use your ${what}. Allow it in the site settings, then reload.`;
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return `No ${what} was found.`;
  if (name === 'NotReadableError') return `Your ${what} is in use by another application.`;
  return `Your ${what} could not be opened (${(err as Error)?.message ?? String(err)}).`;
}

export class LocalMedia {
  private snapshot: LocalMediaSnapshot = {
    mic: null,
    camera: null,
    screen: null,
    micOn: true,
    cameraOn: true,
    devices: { audio: [], video: [] },
    audioDeviceId: null,
    videoDeviceId: null,
    error: null,
    starting: false,
  };
  private readonly listeners = new Set<() => void>();
  /** Bumped by every start and stop, so a slow getUserMedia that lost the race is thrown away. */
  private generation = 0;
  /** Called when the user ends the screen share from the browser's own control. */
  onScreenEnded: (() => void) | undefined;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): LocalMediaSnapshot => this.snapshot;

  private update(patch: Partial<LocalMediaSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const l of this.listeners) l();
  }

  /** Opens the microphone and camera (the chosen ones, or the defaults) and lists the devices. */
  async start(): Promise<void> {
    const generation = ++this.generation;
    this.update({ starting: true, error: null });
    const errors: string[] = [];
    const [mic, camera] = await Promise.all([
      this.open('audio', this.snapshot.audioDeviceId).catch((err: unknown) => {
        errors.push(deviceError(err, 'microphone'));
        return null;
      }),
      this.open('video', this.snapshot.videoDeviceId).catch((err: unknown) => {
        errors.push(deviceError(err, 'camera'));
        return null;
      }),
    ]);
    if (generation !== this.generation) {
      mic?.stop();
      camera?.stop();
      return;
    }
    this.replace('mic', mic);
    this.replace('camera', camera);
    this.update({ error: errors.join(' ') || null, starting: false });
    await this.listDevices();
  }

  /** Switches to another microphone or camera; the new track replaces the old one. */
  async choose(kind: 'audio' | 'video', deviceId: string): Promise<void> {
    const generation = this.generation;
    try {
      const track = await this.open(kind, deviceId);
      if (generation !== this.generation) {
        track.stop();
        return;
      }
      this.replace(kind === 'audio' ? 'mic' : 'camera', track);
      this.update(
        kind === 'audio' ? { audioDeviceId: deviceId, error: null } : { videoDeviceId: deviceId, error: null },
      );
    } catch (err) {
      this.update({ error: deviceError(err, kind === 'audio' ? 'microphone' : 'camera') });
    }
  }

  /** Turns the microphone or camera on or off (the track is kept, disabled). */
  setOn(kind: 'mic' | 'camera', on: boolean): void {
    const track = this.snapshot[kind];
    if (track) track.enabled = on;
    this.update(kind === 'mic' ? { micOn: on } : { cameraOn: on });
  }

  /** Asks for a screen, window or tab to share; resolves null when the user cancels. */
  async startScreen(): Promise<MediaStreamTrack | null> {
    if (this.snapshot.screen) return this.snapshot.screen;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({
        video: { frameRate: { ideal: 15, max: 30 } },
        audio: false,
      });
    } catch (err) {
      if ((err as { name?: string }).name === 'NotAllowedError') return null;
      throw err;
    }
    const track = stream.getVideoTracks()[0] ?? null;
    if (!track) return null;
    track.contentHint = 'detail';
    track.addEventListener('ended', () => {
      if (this.snapshot.screen !== track) return;
      this.update({ screen: null });
      this.onScreenEnded?.();
    });
    this.update({ screen: track });
    return track;
  }

  stopScreen(): void {
    this.snapshot.screen?.stop();
    this.update({ screen: null });
  }

  /** Stops every track (leaving the page). `start()` opens them again. */
  stop(): void {
    this.generation++;
    for (const t of [this.snapshot.mic, this.snapshot.camera, this.snapshot.screen]) t?.stop();
    this.update({ mic: null, camera: null, screen: null, starting: false });
  }

  private async open(kind: 'audio' | 'video', deviceId: string | null): Promise<MediaStreamTrack> {
    const wanted: MediaTrackConstraints =
      kind === 'audio'
        ? { echoCancellation: true, noiseSuppression: true, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) }
        : { ...CAMERA_CONSTRAINTS, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) };
    const stream = await navigator.mediaDevices.getUserMedia(kind === 'audio' ? { audio: wanted } : { video: wanted });
    const track = (kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks())[0];
    if (!track) throw new Error(`no ${kind} track`);
    return track;
  }

  private replace(kind: 'mic' | 'camera', track: MediaStreamTrack | null): void {
    const old = this.snapshot[kind];
    if (old && old !== track) old.stop();
    if (track) track.enabled = kind === 'mic' ? this.snapshot.micOn : this.snapshot.cameraOn;
    const id = track?.getSettings().deviceId ?? null;
    this.update(
      kind === 'mic'
        ? { mic: track, audioDeviceId: id ?? this.snapshot.audioDeviceId }
        : { camera: track, videoDeviceId: id ?? this.snapshot.videoDeviceId },
    );
  }

  private async listDevices(): Promise<void> {
    const all = await navigator.mediaDevices.enumerateDevices();
    const pick = (kind: MediaDeviceKind) =>
      all
        .filter((d) => d.kind === kind && d.deviceId !== '')
        .map((d, i) => ({
          deviceId: d.deviceId,
          label: d.label || `${kind === 'audioinput' ? 'Microphone' : 'Camera'} ${i + 1}`,
        }));
    this.update({ devices: { audio: pick('audioinput'), video: pick('videoinput') } });
  }
}
