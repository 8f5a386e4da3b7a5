import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, extname } from 'node:path';

const TYPESCRIPT_EXTENSIONS = ['.ts', '.mts', '.cts'];

/**
 * Loads a user's module (a migration file): JavaScript with require; TypeScript with the loader already registered
 * (tsx, ts-node, jest, Node's own type stripping), and otherwise, as under the installed `zdt` on plain Node, by
 * transpiling it with the TypeScript compiler of the user's project (found from the file's folder), the one a CDK app
 * in TypeScript already has. No compiler: an error saying what to do.
 */
export function requireModule(path: string): unknown {
  const ext = extname(path);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (!TYPESCRIPT_EXTENSIONS.includes(ext) || require.extensions[ext]) return require(path);
  let ts: typeof import('typescript');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ts = require(require.resolve('typescript', { paths: [dirname(path), __dirname] }));
  } catch {
    throw new Error(`${path} is TypeScript, and no TypeScript compiler was found from its folder: install typescript in the project (npm install --save-dev typescript), run zdt under a TypeScript loader (npx tsx node_modules/.bin/zdt ...), or give the migration as .json or .js`);
  }
  const output = ts.transpileModule(readFileSync(path, 'utf8'), {
    fileName: path,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const loaded = new Module(path, module) as Module & { _compile(code: string, filename: string): void };
  loaded.filename = path;
  loaded.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(path));
  loaded._compile(output.outputText, path);
  return loaded.exports;
}
