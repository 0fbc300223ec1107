/** Words and numbers for meetings: durations, and who is in the room. */

/** `45 s`, `12 min`, `1 h 05 min` from seconds. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** How long a meeting lasted, or has lasted so far if it is live; null before it started. */
export function meetingDuration(
  m: { status: string; startedAt: string | null; durationSeconds: number | null },
  now: number,
): number | null {
  if (m.durationSeconds !== null) return m.durationSeconds;
  if (m.status === 'live' && m.startedAt) return (now - Date.parse(m.startedAt)) / 1000;
  return null;
}

/** `Only you`, `You and Ada`, `You, Ada and 2 others`. */
export function whoIsHere(names: readonly string[]): string {
  if (names.length === 0) return 'Only you';
  if (names.length === 1) return `You and ${names[0]}`;
  if (names.length === 2) return `You, ${names[0]} and ${names[1]}`;
  return `You, ${names[0]} and ${names.length - 1} others`;
}
