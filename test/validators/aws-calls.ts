import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';
import { AslDefinition, forEachState } from '../../rehearsal/asl';

/**
 * The AWS calls the library's code makes, found in the code itself (not a list kept by hand):
 * - each Lambda handler (lambda/**\/<name>-handler.ts, bundled to assets/<name>): esbuild's metafile gives the
 *   modules the handler reaches, the TypeScript AST of each gives the `new XxxCommand(` it sends and the
 *   @aws-sdk/client-* package the command comes from;
 * - each state machine: the Resource of every Task (service integrations and aws-sdk tasks) and its Parameters.
 */

const ROOT = join(__dirname, '..', '..');

/**
 * IAM service prefix of each SDK client package. Not derivable from the package (CloudWatch signs as "monitoring"):
 * a handler that starts using a new client fails the test until its prefix is added here.
 */
export const IAM_PREFIX_OF_CLIENT: Readonly<Record<string, string>> = {
  '@aws-sdk/client-appconfig': 'appconfig',
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
  '@aws-sdk/client-eventbridge': 'events',
  '@aws-sdk/client-rds': 'rds',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-sfn': 'states',
};

/** One SDK command a handler's code sends. */
export interface SdkCall {
  readonly clientPackage: string;
  /** Command class name, e.g. ModifyRuleCommand. */
  readonly command: string;
  /** Source file (relative to the package root) with the `new XxxCommand(`. */
  readonly file: string;
}

/** The handler entry points, by asset name (scripts/bundle.mjs names assets the same way). */
export function handlerEntries(): Record<string, string> {
  const entries: Record<string, string> = {};
  (function walk(dir: string) {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('-handler.ts')) entries[basename(name, '-handler.ts')] = full;
    }
  })(join(ROOT, 'lambda'));
  return entries;
}

/** The `new XxxCommand(` of one source file whose class is imported from an @aws-sdk/client-* package. */
export function sdkCommandsOf(file: string): SdkCall[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const imported = new Map<string, { pkg: string; name: string }>();
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const pkg = statement.moduleSpecifier.text;
    const bindings = statement.importClause?.namedBindings;
    if (!pkg.startsWith('@aws-sdk/client-') || !bindings || !ts.isNamedImports(bindings)) continue;
    for (const element of bindings.elements) imported.set(element.name.text, { pkg, name: (element.propertyName ?? element.name).text });
  }
  const calls: SdkCall[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression)) {
      const found = imported.get(node.expression.text);
      if (found && found.name.endsWith('Command')) calls.push({ clientPackage: found.pkg, command: found.name, file: relative(ROOT, file) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return calls;
}

/** Every SDK command each handler can send: the commands of every module its bundle reaches. */
export async function handlerSdkCalls(): Promise<Record<string, SdkCall[]>> {
  const out: Record<string, SdkCall[]> = {};
  for (const [name, entry] of Object.entries(handlerEntries())) {
    const result = await build({
      entryPoints: [entry], bundle: true, write: false, metafile: true, platform: 'node', packages: 'external', logLevel: 'silent', absWorkingDir: ROOT,
    });
    const modules = Object.keys(result.metafile!.inputs).filter((f) => f.endsWith('.ts')).map((f) => join(ROOT, f));
    out[name] = modules.flatMap(sdkCommandsOf);
  }
  return out;
}

/** One call a state machine's Task makes: the integration and its Parameters. */
export interface TaskCall {
  readonly state: string;
  /** The Task's Resource, e.g. arn:aws:states:::sns:publish or arn:aws:states:::aws-sdk:cloudwatch:putMetricData. */
  readonly resource: string;
  readonly parameters: Record<string, unknown>;
}

/** Every Task of a definition (nested Map and Parallel states included). */
export function taskCallsOf(definition: AslDefinition): TaskCall[] {
  const calls: TaskCall[] = [];
  forEachState(definition, (name, state) => {
    if (state.Type === 'Task') calls.push({ state: name, resource: state.Resource as string, parameters: (state.Parameters ?? {}) as Record<string, unknown> });
  });
  return calls;
}
