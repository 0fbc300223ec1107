import { useEffect, useRef } from 'react';

type FrameCallbackVideo = HTMLVideoElement & { requestVideoFrameCallback?: (cb: () => void) => number };

/** A `<video>` showing one track (muted, so it may always autoplay: sound plays through {@link AudioSink}). */
export function VideoView({
  track,
  mirrored,
  label,
  onFirstFrame,
}: {
  track: MediaStreamTrack;
  mirrored?: boolean;
  label: string;
  onFirstFrame?: () => void;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  const firstFrame = useRef(onFirstFrame);
  firstFrame.current = onFirstFrame;

  useEffect(() => {
    const video = ref.current as FrameCallbackVideo | null;
    if (!video) return;
    video.srcObject = new MediaStream([track]);
    let done = false;
    const shown = () => {
      if (done) return;
      done = true;
      firstFrame.current?.();
    };
    // The first frame actually presented; `loadeddata` where frame callbacks are missing.
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(shown);
    else video.addEventListener('loadeddata', shown, { once: true });
    return () => {
      done = true;
      video.srcObject = null;
    };
  }, [track]);

  return (
    <video ref={ref} className={mirrored ? 'mirrored' : undefined} autoPlay playsInline muted aria-label={label} />
  );
}

/** Plays one remote audio track. */
export function AudioSink({ track }: { track: MediaStreamTrack }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const audio = ref.current;
    if (!audio) return;
    audio.srcObject = new MediaStream([track]);
    audio.play().catch((err: unknown) => {
      // A newer track (or the tile going away) interrupts this one: expected. Anything else is
      // the autoplay policy, which a gesture (joining was one) normally satisfies.
      if ((err as { name?: string }).name !== 'AbortError') console.warn('audio did not start', err);
    });
    return () => {
      audio.srcObject = null;
    };
  }, [track]);
  return <audio ref={ref} autoPlay />;
}
