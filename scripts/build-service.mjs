#!/usr/bin/env node
// Compiles a service to JavaScript: each entry (`src/main.ts`, CLIs, worker threads) becomes one
// ESM file in the service's dist/, named after its source (src/rebuild-cli.ts → dist/rebuild-cli.js).
//
//   node ../../scripts/build-service.mjs src/main.ts [src/other-entry.ts …]   (from the service)
//
// Workspace packages (@quorum/*) are bundled in. Every npm dependency stays an import, so native
// and wasm packages (mediasoup, pg, PGlite, pino's transports) load their assets from their own
// folders. npm installs a dependency under the workspace that declares it when it cannot hoist it
// (kysely sits in packages/db/node_modules, not the root), so such an import, which Node would
// not find from dist/, is written as a path to the file it resolved to from its source.
// Source maps are linked on disk (never served) for stack traces under --enable-source-maps.
import { rmSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const WORKSPACE_SCOPE = '@quorum/';
const SKIP = Symbol('resolving as esbuild would, without this plugin');

/** Third-party imports stay imports, resolvable from the output directory. */
function externalDependencies(outdir) {
  return {
    name: 'external-dependencies',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData === SKIP) return undefined;
        if (args.path.startsWith('node:') || args.path.startsWith(WORKSPACE_SCOPE)) return undefined;
        const from = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          pluginData: SKIP,
        });
        if (from.errors.length > 0) return { errors: from.errors };
        // A Node builtin without the `node:` prefix.
        if (from.external) return { path: args.path, external: true };
        // From dist/ Node looks in the service's node_modules, then upwards: as from the service itself.
        const fromDist = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: dirname(outdir),
          pluginData: SKIP,
        });
        if (fromDist.errors.length === 0 && fromDist.path === from.path) return { path: args.path, external: true };
        const path = relative(outdir, from.path).split(sep).join('/');
        return { path: path.startsWith('.') ? path : `./${path}`, external: true };
      });
    },
  };
}

export async function buildService(serviceDir, entries) {
  const outdir = join(serviceDir, 'dist');
  rmSync(outdir, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: serviceDir,
    entryPoints: entries,
    outdir,
    entryNames: '[name]',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Node's own resolution: `import`, `node`, `default`, without esbuild's extra `module`.
    conditions: [],
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
    plugins: [externalDependencies(outdir)],
  });
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const entries = process.argv.slice(2);
  if (entries.length === 0) {
    console.error('usage: node scripts/build-service.mjs src/main.ts [more entries …] (run in the service)');
    process.exit(2);
  }
  const serviceDir = process.cwd();
  const started = performance.now();
  await buildService(serviceDir, entries);
  const name = relative(resolve(dirname(fileURLToPath(import.meta.url)), '..'), serviceDir);
  console.log(
    `[build] ${name}: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} in ${Math.round(performance.now() - started)} ms`,
  );
}
