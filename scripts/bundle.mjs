// Pre-bundles every Lambda handler (lambda/**/*-handler.ts) into assets/<name>/index.js,
// so constructs load them with lambda.Code.fromAsset and consumers need neither esbuild nor Docker.
// The asset name is the file name without "-handler.ts" (lambda/routing/router-handler.ts -> assets/router).
import { build } from 'esbuild';
import { readdirSync, statSync, mkdirSync, rmSync } from 'node:fs';
import { join, basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entries = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full);
    else if (name.endsWith('-handler.ts')) entries.push(full);
  }
})(join(root, 'lambda'));

const names = new Set();
await Promise.all(entries.map(async (entry) => {
  const name = basename(entry, '-handler.ts');
  if (names.has(name)) throw new Error(`Two handlers bundle to assets/${name}: rename one of them (${entry})`);
  names.add(name);
  const outdir = join(root, 'assets', name);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [entry],
    outfile: join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    // pg's optional native binding is never used on Lambda.
    external: ['pg-native'],
    // The AWS SDK's ES module builds (dist-es) before its CommonJS ones: esbuild tree-shakes ES modules, so a handler
    // carries the commands and serde code it uses, not the whole client (load time and size in BENCHMARKS.md,
    // `node bench/handlers.bench.mjs`). Together with the pure client accessors of lambda/shared/clients.ts, a
    // handler carries only the clients it calls.
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
}));
if (!process.env.CI_QUIET) console.error(`bundled ${entries.length} Lambda handler(s) into assets/`);
