/**
 * The layers of DESIGN.md and the lint, checked by tools in `npm test`: dependency-cruiser with
 * .dependency-cruiser.cjs (lib and lambda meet only through contracts, lambda never imports the CDK, the rehearsal
 * engine never imports bin/, no cycles) and ESLint with eslint.config.mjs (typescript-eslint's recommended rules).
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

function run(command: string, args: string[], cwd = ROOT): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

test('the layers hold: no dependency-cruiser violation in lib, lambda, rehearsal and bin', () => {
  const result = run(bin('depcruise'), ['lib', 'lambda', 'rehearsal', 'bin', '--config', '.dependency-cruiser.cjs', '--output-type', 'err']);
  expect(result.output).toMatch(/no dependency violations found/);
  expect(result.status).toBe(0);
}, 120_000);

test('the layer rules catch what they forbid (a lib module importing a handler module)', () => {
  // The rules run against a fixture tree, so that a rule that matches nothing cannot pass unnoticed.
  const result = run(bin('depcruise'), ['lib', 'lambda', 'rehearsal', 'bin', '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'err'], join(__dirname, 'fixtures', 'layers'));
  expect(result.output).toMatch(/lib-to-lambda-only-through-contracts: lib\/uses-handler\.ts → lambda\/routing\/router\.ts/);
  expect(result.output).toMatch(/lambda-never-imports-cdk: lambda\/routing\/router\.ts/);
  expect(result.output).toMatch(/rehearsal-never-imports-bin: rehearsal\/engine\.ts → bin\/cli\.ts/);
  expect(result.output).toMatch(/rehearsal-never-imports-bin: rehearsal\/cli\.ts → bin\/cli\.ts/);
  expect(result.output).toMatch(/no-cycles: lib\/cycle-a\.ts/);
  expect(result.output).not.toMatch(/lib\/uses-contract\.ts/);
  expect(result.status).not.toBe(0);
}, 120_000);

test('ESLint finds nothing', () => {
  const result = run(bin('eslint'), ['.', '--max-warnings', '0']);
  expect(result.output).toBe('');
  expect(result.status).toBe(0);
}, 180_000);
