/**
 * The constructs compile with jsii and generate for Python, Java, .NET and Go, in a scratch copy of the package (the
 * worktree's dist/ and .jsii stay untouched). What each test would catch:
 * - a public type jsii rejects (a function-typed prop, a union of literals, Record/Omit, an exported const...);
 * - a wire type or a tool leaking into the public API;
 * - an exported type or member without documentation, an optional prop without `@default`;
 * - a target pacmak cannot generate;
 * - an API.md older than the code.
 *
 * The steps (~35 s of CPU) run once, in the build (scripts/build.mjs, the pretest, runs them beside tsc, which uses
 * one core): this file checks what that run recorded in .build/jsii, when it was made from the current lib/, lambda/,
 * README, package.json, tsconfig.jsii.json and tool versions (scripts/jsii-artifacts.cjs hashes them). Otherwise (lib/
 * edited since the build, `build --skip-jsii`, no build) it runs the same steps itself first, into a scratch directory.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildJsiiArtifacts, currentJsiiArtifacts, JsiiArtifacts, StepResult } from '../../scripts/jsii-artifacts.cjs';

const ROOT = resolve(__dirname, '../..');
/** Running the steps here takes ~35 s of CPU; on a loaded 2-core machine several times that in wall time. */
const BUILD_TIMEOUT_MS = 10 * 60 * 1000;

interface Docs { readonly summary?: string; readonly default?: string; readonly remarks?: string }
interface Property { readonly name: string; readonly docs?: Docs; readonly optional?: boolean }
interface Method { readonly name: string; readonly docs?: Docs }
interface JsiiType {
  readonly fqn: string;
  readonly kind: 'class' | 'interface' | 'enum';
  readonly datatype?: boolean;
  readonly docs?: Docs;
  readonly properties?: Property[];
  readonly methods?: Method[];
  readonly members?: { readonly name: string; readonly docs?: Docs }[];
}

let scratch: string | undefined;
let work: string;
let result: JsiiArtifacts;
let assembly: { readonly types: Record<string, JsiiType> };

function succeeded(name: string, step: StepResult): void {
  if (step.status !== 0) throw new Error(`${name} failed (exit status ${step.status}):\n${step.output}`);
}

beforeAll(async () => {
  const built = join(ROOT, '.build', 'jsii');
  let out = built;
  let recorded = currentJsiiArtifacts(ROOT, built);
  if (!recorded) {
    scratch = mkdtempSync(join(tmpdir(), 'zdt-jsii-'));
    out = scratch;
    recorded = await buildJsiiArtifacts(ROOT, scratch);
  }
  result = recorded;
  work = join(out, result.work);
  if (result.jsii.status !== 0) throw new Error(`jsii failed to compile the public API (lib/index.ts):\n${result.jsii.output}`);
  assembly = JSON.parse(readFileSync(join(work, '.jsii'), 'utf8'));
}, BUILD_TIMEOUT_MS);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('jsii', () => {
  test('compiles the public API without a warning', () => {
    expect(result.jsii.output).not.toMatch(/warning JSII/);
    expect(Object.keys(assembly.types).length).toBeGreaterThan(40);
  });

  test('exports the constructs, their props, strategies, interfaces and the names users match on', () => {
    const names = Object.values(assembly.types).map((t) => t.fqn.replace(/^cdk-zero-downtime\./, ''));
    expect(names).toEqual(expect.arrayContaining([
      'BlueGreenRouting', 'IBlueGreenRouting', 'BlueGreenRoutingAttributes', 'ProgressiveRollout', 'IProgressiveRollout',
      'ProgressiveRolloutAttributes', 'RolloutStrategy', 'BlueGreenStacks', 'IColorEnvironmentFactory', 'IBlueGreenNetworkFactory',
      'SchemaMigration', 'BlueGreenDatabase', 'RolloutDashboard', 'RolloutPipelineStep', 'RolloutAction', 'FeatureFlags',
      'FlagDeployment', 'Color', 'RolloutEvent', 'ErrorName', 'MigrationEvent', 'BlueGreenEvent', 'ZeroDowntimeEventSource',
    ]));
  });

  test('keeps the handlers\' wire types and the tools out of the public API', () => {
    const names = Object.values(assembly.types).map((t) => t.fqn.replace(/^cdk-zero-downtime\./, ''));
    for (const internal of ['RouterConfig', 'LockConfig', 'JudgeConfig', 'GuardConfig', 'RolloutPlan', 'PlannedStep', 'StateTable',
      'MigrationEngine', 'HandlerFunction', 'LiveRouteProvider', 'FlagsDocument', 'BlueGreenHandlerConfig', 'MigrationHandlerConfig']) {
      expect(names).not.toContain(internal);
    }
  });

  test('documents every exported type and member, and the default of every optional prop', () => {
    const problems: string[] = [];
    for (const type of Object.values(assembly.types)) {
      if (!type.docs?.summary) problems.push(`${type.fqn}: no documentation`);
      for (const p of type.properties ?? []) {
        if (!p.docs?.summary) problems.push(`${type.fqn}.${p.name}: no documentation`);
        if (type.datatype && p.optional && p.docs?.default === undefined) problems.push(`${type.fqn}.${p.name}: optional without @default`);
      }
      for (const m of type.methods ?? []) if (!m.docs?.summary) problems.push(`${type.fqn}.${m.name}(): no documentation`);
      for (const m of type.members ?? []) if (!m.docs?.summary) problems.push(`${type.fqn}.${m.name}: no documentation`);
    }
    expect(problems).toEqual([]);
  });
});

describe('jsii-pacmak --code-only', () => {
  beforeAll(() => succeeded('jsii-pacmak', result.pacmak));

  test.each([
    ['python', 'python/src/cdk_zero_downtime/__init__.py', /class ProgressiveRollout\(/],
    ['java', 'java/src/main/java/dev/zerodowntime/cdk/ProgressiveRollout.java', /public class ProgressiveRollout extends/],
    ['dotnet', 'dotnet/ZeroDowntime.Cdk/ZeroDowntime/Cdk/ProgressiveRollout.cs', /public class ProgressiveRollout :/],
    ['go', 'go/cdkzerodowntime/ProgressiveRollout.go', /type ProgressiveRollout interface/],
  ])('generates the %s package', (_language, file, declaration) => {
    const path = join(work, 'packages', file);
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path, 'utf8')).toMatch(declaration);
  });
});

describe('API.md', () => {
  test('is the reference jsii-docgen writes for the current code (run `npm run docgen` after changing the API)', () => {
    succeeded('jsii-docgen', result.docgen);
    const fresh = readFileSync(join(work, 'API.md'), 'utf8').split('\n');
    const committed = existsSync(join(ROOT, 'API.md')) ? readFileSync(join(ROOT, 'API.md'), 'utf8').split('\n') : [];
    // The first line that differs, with its number: enough to see which member's documentation is stale.
    const line = fresh.findIndex((text, i) => committed[i] !== text);
    const stale = line === -1 && committed.length === fresh.length ? undefined : { line: line + 1, committed: committed[line], generated: fresh[line] };
    expect(stale).toBeUndefined();
  });
});
