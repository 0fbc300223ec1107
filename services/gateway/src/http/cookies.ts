import type { CookieOptions } from '../trpc';

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    const raw = part.slice(i + 1).trim();
    try {
      out[name] = decodeURIComponent(raw);
    } catch {
      out[name] = raw; // not percent-encoded by us; keep it as sent
    }
  }
  return out;
}

export function serializeCookie(name: string, value: string, o: CookieOptions & { secure: boolean }): string {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${o.path ?? '/'}`,
    `Max-Age=${o.maxAgeSeconds}`,
    'HttpOnly',
    `SameSite=${o.sameSite ?? 'Lax'}`,
  ];
  if (o.secure) parts.push('Secure');
  return parts.join('; ');
}
