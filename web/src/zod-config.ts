/**
 * Imported first by `main.tsx`, before any schema is built. Zod compiles object parsers with
 * `new Function` unless told not to, and probes for it when each object schema is built; the
 * gateway's Content-Security-Policy forbids eval (no 'unsafe-eval' in script-src), so the probe
 * would be refused and reported as a violation on every page.
 */
import { z } from 'zod';

z.config({ jitless: true });
