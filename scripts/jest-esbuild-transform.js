// Jest transform for the tests' TypeScript: esbuild's transformSync (esbuild is already the pinned bundler of
// scripts/bundle.mjs), in place of ts-jest. ts-jest ran in its transpile-only mode here (`diagnostics: false` and
// `isolatedModules` in tsconfig.json: no type checking), so it did the same job, but it loads the TypeScript compiler
// in every worker and transpiles each file an order of magnitude slower, which CI pays in full (a clean checkout
// starts with a cold jest cache). Types are still checked: `tsc --noEmit -p .` and the build's tsc cover test/ too.
//
// Semantics kept from tsc with tsconfig.json: CommonJS output with esModuleInterop-compatible interop,
// ES2022 class fields (useDefineForClassFields, tsc's default for target ES2022), inline source maps for stack traces.
// Nothing in test/ uses jest.mock, whose calls this transform (unlike ts-jest and babel-jest) would not hoist.
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const esbuild = require('esbuild');

const OPTIONS = {
  loader: 'ts',
  format: 'cjs',
  target: 'node20',
  platform: 'node',
  sourcemap: 'inline',
  sourcesContent: false,
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: true, esModuleInterop: true } },
};

const KEY = createHash('sha256').update(readFileSync(__filename)).update(esbuild.version).update(JSON.stringify(OPTIONS)).digest('hex');

module.exports = {
  canInstrument: false,
  getCacheKey(source, path) {
    return createHash('sha256').update(KEY).update('\0').update(path).update('\0').update(source).digest('hex');
  },
  process(source, path) {
    const { code } = esbuild.transformSync(source, { ...OPTIONS, sourcefile: path });
    return { code };
  },
};
