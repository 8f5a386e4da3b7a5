// The jsii build of the constructs package, run once by scripts/build.mjs (the pretest) and checked by
// test/jsii/jsii-build.test.ts: jsii compiles lib/index.ts into an assembly, jsii-pacmak generates the Python, Java,
// .NET and Go code from it, jsii-docgen writes API.md from it. Each step's exit status and output are recorded in
// <out>/result.json with a hash of everything the steps read, so that the test can tell whether the recorded run is
// the current code's (and run the steps itself when it is not: after an edit of lib/, or without a build).
//
// The steps run in a scratch copy of the package (jsii writes its JavaScript to the tsconfig's outDir, dist/, which
// is the build's own output). A failing step does not fail the build: the test reports it, with jsii's messages.
//
// Used from scripts/build.mjs (ESM) and from the test (jest's CommonJS), hence CommonJS.
const { execFile } = require('node:child_process');
const { createHash } = require('node:crypto');
const { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

/** What the steps read from the repository: copied into the scratch package, and hashed. */
const INPUTS = ['package.json', 'tsconfig.jsii.json', 'README.md', 'lib', 'lambda'];
/** The tools whose versions change the output. */
const TOOLS = ['jsii', 'jsii-pacmak', 'jsii-docgen', 'typescript'];
const TARGETS = ['python', 'java', 'dotnet', 'go'];
/** jsii, pacmak and docgen take ~35 s of CPU together; on a loaded 2-core machine several times that in wall time. */
const STEP_TIMEOUT_MS = 10 * 60 * 1000;

function files(root, entry) {
  const full = join(root, entry);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [entry];
  return readdirSync(full).sort().flatMap((name) => files(root, join(entry, name)));
}

/** A hash of the inputs' paths and contents and of the tools' versions. */
function inputsHash(root) {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap((entry) => files(root, entry))) hash.update(`${file}\0`).update(readFileSync(join(root, file))).update('\0');
  for (const tool of TOOLS) hash.update(`${tool}@${JSON.parse(readFileSync(join(root, 'node_modules', tool, 'package.json'), 'utf8')).version}\0`);
  return hash.digest('hex');
}

function step(root, cwd, command, args) {
  return new Promise((resolve) => {
    execFile(join(root, 'node_modules', '.bin', command), args, {
      cwd, encoding: 'utf8', timeout: STEP_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1', JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '1' },
    }, (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}${err && !stdout && !stderr ? err.message : ''}` }));
  });
}

/**
 * Runs jsii, then jsii-pacmak --code-only and jsii-docgen side by side, in <out>/package (a copy of the inputs) and
 * records the result in <out>/result.json. Returns the result.
 */
async function buildJsiiArtifacts(root, out) {
  rmSync(out, { recursive: true, force: true });
  const work = join(out, 'package');
  mkdirSync(work, { recursive: true });
  for (const entry of INPUTS) cpSync(join(root, entry), join(work, entry), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'), 'dir');
  // Hashed from the copy: what the steps actually read, even if the repository is edited meanwhile.
  const inputs = inputsHash(work);
  const jsii = await step(root, work, 'jsii', []);
  const skipped = { status: null, output: 'not run: jsii failed' };
  const [pacmak, docgen] = jsii.status === 0
    ? await Promise.all([
      step(root, work, 'jsii-pacmak', ['--code-only', '--outdir', join(work, 'packages'), '--targets', ...TARGETS]),
      step(root, work, 'jsii-docgen', ['--output', join(work, 'API.md')]),
    ])
    : [skipped, skipped];
  const result = { inputs, work: relative(out, work), jsii, pacmak, docgen };
  writeFileSync(join(out, 'result.json'), JSON.stringify(result, null, 2));
  return result;
}

/** The recorded result in <out> if it was made from the repository's current inputs, else undefined. */
function currentJsiiArtifacts(root, out) {
  const file = join(out, 'result.json');
  if (!existsSync(file)) return undefined;
  const result = JSON.parse(readFileSync(file, 'utf8'));
  return result.inputs === inputsHash(root) ? result : undefined;
}

module.exports = { buildJsiiArtifacts, currentJsiiArtifacts, inputsHash, TARGETS };
