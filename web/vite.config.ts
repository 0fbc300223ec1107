import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` (root) runs Quorum on :3000 and this dev server on :5173; the proxy keeps the
// app and `/trpc` on one origin, so the session cookies and SSE work as in `npm start`.
const gateway = process.env.QUORUM_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    strictPort: true,
    proxy: { '/trpc': { target: gateway, ws: true } },
  },
  // No source maps: the gateway serves dist to anyone, and would hand out the app's source.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
});
