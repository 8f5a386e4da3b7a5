// Builds the three packages of this repository from one TypeScript compilation:
//
//   cdk-zero-downtime          (the repository root)  constructs: dist/ = lib/ and exactly the lambda/ modules it
//                                                     reaches (the contracts), plus the pre-bundled handlers in assets/
//   cdk-zero-downtime-tools    (packages/tools)       the zdt CLI, the rehearsal API, the migration engine
//   cdk-zero-downtime-runtime  (packages/runtime)     the feature-flags evaluator and the EMF metrics writer
//                                                     applications import, no dependencies
//
// 1. esbuild pre-bundles every Lambda handler into assets/ (scripts/bundle.mjs);
// 2. tsc compiles the whole program once (the same program `tsc --noEmit -p .` type-checks) into .build/tsc/;
// 3. each package takes its files from there: the constructs package and the runtime package take the closure of
//    their entry point's relative requires (so nothing they do not load rides along), the tools package takes bin/,
//    rehearsal/, lambda/ and the lib/ they import, and the example migrations the example app reads.
// 4. meanwhile (tsc uses one core), jsii compiles the public API and jsii-pacmak and jsii-docgen generate from it,
//    into .build/jsii/ (scripts/jsii-artifacts.cjs); test/jsii checks what they recorded. --skip-jsii leaves it out
//    (the test then runs those steps itself).
//
// Usage: node scripts/build.mjs [--skip-bundle] [--skip-jsii]
import { execFile, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, '.build', 'tsc');
const quiet = !!process.env.CI_QUIET;

if (!process.argv.includes('--skip-bundle')) execFileSync(process.execPath, [join(root, 'scripts', 'bundle.mjs')], { stdio: 'inherit' });

const jsii = process.argv.includes('--skip-jsii')
  ? undefined
  : createRequire(import.meta.url)('./jsii-artifacts.cjs').buildJsiiArtifacts(root, join(root, '.build', 'jsii'));

rmSync(compiled, { recursive: true, force: true });
await new Promise((resolvePromise, reject) => {
  const tsc = execFile(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json'), '--outDir', compiled],
    (err) => (err ? reject(new Error(`tsc failed (exit code ${err.code})`)) : resolvePromise()));
  tsc.stdout.pipe(process.stdout);
  tsc.stderr.pipe(process.stderr);
});

/**
 * The compiled files a module loads through relative requires, and those its declarations import (a type-only
 * import leaves no require but is still needed by the .d.ts), itself included; as paths without extension.
 */
function requireClosure(entry) {
  const seen = new Set();
  const pending = [entry.replace(/\.js$/, '')];
  while (pending.length) {
    const base = pending.pop();
    if (seen.has(base)) continue;
    seen.add(base);
    for (const file of [`${base}.js`, `${base}.d.ts`].filter((f) => existsSync(f))) {
      const source = readFileSync(file, 'utf8');
      const specs = [...source.matchAll(/(?:require\(|from |import\()["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]);
      for (const spec of specs) {
        const target = resolve(dirname(file), spec).replace(/\.js$/, '');
        const found = [target, join(target, 'index')].find((t) => existsSync(`${t}.js`) || existsSync(`${t}.d.ts`));
        if (!found) throw new Error(`${relative(root, file)} imports ${spec}, which the compilation did not emit`);
        pending.push(found);
      }
    }
  }
  return [...seen];
}

function copyClosure(entry, destination) {
  for (const base of requireClosure(join(compiled, entry))) {
    for (const file of [`${base}.js`, `${base}.d.ts`].filter((f) => existsSync(f))) {
      const target = join(destination, relative(compiled, file));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(file, target);
    }
  }
}

// The constructs package: lib/ and the contracts it loads.
rmSync(join(root, 'dist'), { recursive: true, force: true });
copyClosure('lib/index.js', join(root, 'dist'));

// The tools package: the CLI, the rehearsal, the handlers' modules it runs in-process, the migration engine.
const tools = join(root, 'packages', 'tools');
rmSync(join(tools, 'dist'), { recursive: true, force: true });
for (const dir of ['bin', 'rehearsal', 'lambda', 'lib']) cpSync(join(compiled, dir), join(tools, 'dist', dir), { recursive: true });
// bin/everjust-data.ts reads its migration from <dist>/examples/migrations, as the repository's bin/ reads examples/.
cpSync(join(root, 'examples', 'migrations'), join(tools, 'dist', 'examples', 'migrations'), { recursive: true });
cpSync(join(root, 'rehearsal', 'README.md'), join(tools, 'REHEARSAL.md'));
for (const pkg of [tools, join(root, 'packages', 'runtime')]) cpSync(join(root, 'LICENSE'), join(pkg, 'LICENSE'));

// The runtime package: the flags evaluator (its main entry), the EMF metrics writer (./metrics) and what they load.
const runtime = join(root, 'packages', 'runtime');
rmSync(join(runtime, 'dist'), { recursive: true, force: true });
copyClosure('lambda/flags/index.js', join(runtime, 'dist'));
copyClosure('lambda/metrics/index.js', join(runtime, 'dist'));

if (jsii) {
  const result = await jsii;
  const failed = ['jsii', 'pacmak', 'docgen'].filter((name) => result[name].status !== 0);
  if (!quiet || failed.length) console.error(`jsii build in .build/jsii: ${failed.length ? `${failed.join(', ')} failed (test/jsii reports why)` : 'ok'}`);
}
if (!quiet) console.error('built dist/ (cdk-zero-downtime), packages/tools/dist (cdk-zero-downtime-tools), packages/runtime/dist (cdk-zero-downtime-runtime)');
