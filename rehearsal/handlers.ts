import { CONFIG_ENV, HANDLER_METADATA_KEY } from '../lambda/shared/contracts';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { AslDefinition } from './asl';
import { withLambdaEnvironment } from './lambda-environment';
import type { LambdaFunctionHandler, LambdaInvocation } from './runner';
import { CfnTemplate, TemplateResolver, TemplateResolverOptions } from './template';

/**
 * Binds the Lambda functions of a synthesized template to the library's real handler code,
 * loaded in-process (the same module instances as the test or rehearsal, so setClock and
 * aws-sdk-client-mock apply to them), never to the pre-bundled assets.
 */

export { HANDLER_METADATA_KEY };

const LAMBDA_FUNCTION_TYPE = 'AWS::Lambda::Function';
const HANDLER_FILE_SUFFIX = '-handler';
/** Lambda's default timeout, seconds, when the template sets none. */
const DEFAULT_LAMBDA_TIMEOUT_SECONDS = 3;
/** Lambda's default memory, MB, when the template sets no MemorySize. */
export const DEFAULT_LAMBDA_MEMORY_MB = 128;
/** Lambda's memory range, MB (what CloudFormation accepts for MemorySize). */
const MIN_LAMBDA_MEMORY_MB = 128;
const MAX_LAMBDA_MEMORY_MB = 10_240;
/** The instruction set architectures of Lambda (the one item of a function's Architectures). */
export type LambdaArchitecture = 'arm64' | 'x86_64';
const LAMBDA_ARCHITECTURES: readonly LambdaArchitecture[] = ['arm64', 'x86_64'];
/** Lambda's default architecture when the template sets no Architectures. */
export const DEFAULT_LAMBDA_ARCHITECTURE: LambdaArchitecture = 'x86_64';
const MS_PER_SECOND = 1000;

/** A Lambda handler as a module exports it. */
export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown> | unknown;

/** Any handler function, whatever event type it declares. */
export type AnyLambdaHandler = (event: never, context: never) => unknown;

/** Where a handler comes from: a module path, a loaded module with a `handler` export, or the handler itself. */
export type HandlerSource = string | { readonly handler: AnyLambdaHandler } | AnyLambdaHandler;

/** The subset of the Lambda context object the library's handlers may read. */
export interface LambdaContext {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

/** A function of the template that runs one of the library's handlers. */
export interface HandlerFunctionInfo {
  readonly logicalId: string;
  /** The handler name in its Metadata (lambda/**\/<name>-handler.ts). */
  readonly handlerName: string;
  /** Physical name (Ref). */
  readonly functionName: string;
  /** Physical ARN (Fn::GetAtt Arn). */
  readonly functionArn: string;
  /** Environment.Variables, resolved. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  /** MemorySize, MB (Lambda's default, 128, when the template sets none). */
  readonly memorySize: number;
  /** The one item of Architectures (Lambda's default, x86_64, when the template sets none). */
  readonly architecture: LambdaArchitecture;
}

export interface BindHandlersOptions extends TemplateResolverOptions {
  /** Folder searched for lambda/**\/<name>-handler.ts. @default - the lambda/ folder of this package */
  readonly lambdaRoot?: string;
  /** Variables set for every invocation, under the function's own (e.g. ZDT_LOG_LEVEL=silent). @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * The invocations are made by AWS on behalf of a running one (AppConfig's Lambda validator, during the
   * StartDeployment a handler sends). No longer changes anything: every invocation runs at once, with its own
   * variables (rehearsal/lambda-environment.ts). @default false
   */
  readonly nested?: boolean;
}

/** What prices a Lambda function's invocations: its name, memory and architecture. */
export type LambdaFunctionSize = Pick<HandlerFunctionInfo, 'logicalId' | 'functionName' | 'memorySize' | 'architecture'>;

/** One function's properties, resolved on demand; an error names `caller`, the function and the property. */
interface PropertyReader {
  (name: string): unknown;
  /** Who reads (handlerFunctionsOf, lambdaFunctionsOf): the first word of every error. */
  readonly callerName: string;
}

function propertyReader(resolver: TemplateResolver, logicalId: string, resource: { Properties?: Record<string, unknown> }, caller: string): PropertyReader {
  const read = (name: string): unknown => {
    try {
      return resolver.resolve(resource.Properties?.[name]);
    } catch (err) {
      throw new Error(`${caller}: could not resolve ${name} of Lambda function ${logicalId}: ${(err as Error).message}`, { cause: err });
    }
  };
  return Object.assign(read, { callerName: caller });
}

/** Name, memory and architecture of one function of the template. */
function sizeOf(resolver: TemplateResolver, logicalId: string, property: PropertyReader): LambdaFunctionSize {
  return {
    logicalId,
    functionName: String(resolver.ref(logicalId)),
    memorySize: memorySizeOf(property('MemorySize'), logicalId, property.callerName),
    architecture: architectureOf(property('Architectures'), logicalId, property.callerName),
  };
}

/**
 * The AWS::Lambda::Functions of the template, the library's or not (a traffic hook...), with what prices them;
 * `only` keeps those of the given physical names (the invoked ones), so that a function nobody called is never
 * resolved.
 */
export function lambdaFunctionsOf(template: CfnTemplate, options: TemplateResolverOptions = {}, only?: ReadonlySet<string>): LambdaFunctionSize[] {
  const resolver = new TemplateResolver(template, options);
  return resolver.resourcesOfType(LAMBDA_FUNCTION_TYPE)
    .filter(({ logicalId }) => !only || only.has(String(resolver.ref(logicalId))))
    .map(({ logicalId, resource }) => sizeOf(resolver, logicalId, propertyReader(resolver, logicalId, resource, 'lambdaFunctionsOf')));
}

/** Every AWS::Lambda::Function of the template whose Metadata names one of the library's handlers. */
export function handlerFunctionsOf(template: CfnTemplate, options: TemplateResolverOptions = {}): HandlerFunctionInfo[] {
  const resolver = new TemplateResolver(template, options);
  return resolver.resourcesOfType(LAMBDA_FUNCTION_TYPE)
    .filter(({ resource }) => typeof resource.Metadata?.[HANDLER_METADATA_KEY] === 'string')
    .map(({ logicalId, resource }) => {
      const property = propertyReader(resolver, logicalId, resource, 'handlerFunctionsOf');
      const variables = ((property('Environment') as { Variables?: Record<string, unknown> } | undefined)?.Variables) ?? {};
      return {
        ...sizeOf(resolver, logicalId, property),
        handlerName: resource.Metadata![HANDLER_METADATA_KEY] as string,
        functionArn: resolver.getAtt(logicalId, 'Arn'),
        environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
        timeoutSeconds: Number(property('Timeout') ?? DEFAULT_LAMBDA_TIMEOUT_SECONDS),
      };
    });
}

/** A resolved MemorySize: an integer number of MB within Lambda's range (a parameter's value is a numeric string). */
function memorySizeOf(value: unknown, logicalId: string, caller: string): number {
  if (value === undefined) return DEFAULT_LAMBDA_MEMORY_MB;
  const mb = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof mb !== 'number' || !Number.isInteger(mb) || mb < MIN_LAMBDA_MEMORY_MB || mb > MAX_LAMBDA_MEMORY_MB) {
    throw new Error(`${caller}: expected MemorySize of Lambda function ${logicalId} to resolve to an integer from ${MIN_LAMBDA_MEMORY_MB} to ${MAX_LAMBDA_MEMORY_MB} (MB), found ${JSON.stringify(value)}`);
  }
  return mb;
}

/** A resolved Architectures: a list of exactly one of Lambda's architectures. */
function architectureOf(value: unknown, logicalId: string, caller: string): LambdaArchitecture {
  if (value === undefined) return DEFAULT_LAMBDA_ARCHITECTURE;
  if (!Array.isArray(value) || value.length !== 1 || !LAMBDA_ARCHITECTURES.includes(value[0] as LambdaArchitecture)) {
    throw new Error(`${caller}: expected Architectures of Lambda function ${logicalId} to resolve to one of ${LAMBDA_ARCHITECTURES.map((a) => `["${a}"]`).join(', ')}, found ${JSON.stringify(value)}`);
  }
  return value[0] as LambdaArchitecture;
}

/** The functions of `functions` that `definition` invokes (by ARN or name), as a state machine's Tasks name them. */
export function functionsInvokedBy(definition: AslDefinition, functions: readonly HandlerFunctionInfo[]): HandlerFunctionInfo[] {
  const text = JSON.stringify(definition);
  return functions.filter((f) => text.includes(`"${f.functionArn}"`) || text.includes(`"${f.functionName}"`));
}

/**
 * The configuration (its CONFIG_ENV variable, JSON) of the one function of `functions` that runs `handlerName`;
 * `what` names the state machine in the error when there is none.
 */
export function handlerConfigOf<T>(functions: readonly HandlerFunctionInfo[], handlerName: string, what: string): T {
  const fn = functions.find((f) => f.handlerName === handlerName);
  if (!fn) throw new Error(`rehearse: ${what} invokes no "${handlerName}" handler function`);
  return JSON.parse(fn.environment[CONFIG_ENV]) as T;
}

/**
 * Binds every function of the template whose Metadata has 'cdk-zero-downtime:handler' = <name> to
 * the `handler` export of lambda/**\/<name>-handler.ts (or of `handlerModules[name]` when given),
 * keyed by the function's physical name and ARN, ready for runStateMachine's `lambdas`.
 *
 * Each invocation sees the function's resolved Environment.Variables (ZDT_CONFIG...) in process.env, its own
 * alone (rehearsal/lambda-environment.ts): invocations of different functions overlap in time, as on AWS.
 */
export function bindHandlers(template: CfnTemplate, handlerModules: Readonly<Record<string, HandlerSource>> = {}, options: BindHandlersOptions = {}): Map<string, LambdaFunctionHandler> {
  const lambdaRoot = options.lambdaRoot ?? join(__dirname, '..', 'lambda');
  const bound = new Map<string, LambdaFunctionHandler>();
  for (const fn of handlerFunctionsOf(template, options)) {
    const handler = loadHandler(fn, handlerModules[fn.handlerName], lambdaRoot);
    const invoke = boundInvocation(fn, handler, options.environment ?? {});
    bound.set(fn.functionName, invoke);
    bound.set(fn.functionArn, invoke);
  }
  return bound;
}

let requestCounter = 0;

function boundInvocation(fn: HandlerFunctionInfo, handler: LambdaHandler, extraEnvironment: Readonly<Record<string, string>>): LambdaFunctionHandler {
  return (payload: unknown, invocation: LambdaInvocation) => withLambdaEnvironment({ ...extraEnvironment, ...fn.environment, AWS_LAMBDA_FUNCTION_NAME: fn.functionName }, async () => {
    const deadline = Date.now() + fn.timeoutSeconds * MS_PER_SECOND;
    const context: LambdaContext = {
      functionName: fn.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: fn.functionArn,
      memoryLimitInMB: String(fn.memorySize),
      awsRequestId: `rehearsal-${++requestCounter}`,
      logGroupName: `/aws/lambda/${fn.functionName}`,
      logStreamName: `rehearsal/${invocation.executionArn.split(':').pop()}/${invocation.stateName}`,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    return handler(payload, context);
  });
}

function loadHandler(fn: HandlerFunctionInfo, source: HandlerSource | undefined, lambdaRoot: string): LambdaHandler {
  if (typeof source === 'function') return source as LambdaHandler;
  if (source !== undefined && typeof source === 'object') return handlerExport(source, `handlerModules["${fn.handlerName}"]`, fn);
  const path = typeof source === 'string' ? resolve(source) : findHandlerModule(fn.handlerName, lambdaRoot);
  if (!path) {
    throw new Error(`bindHandlers: function ${fn.logicalId} runs handler "${fn.handlerName}", but no ${fn.handlerName}${HANDLER_FILE_SUFFIX}.ts (or .js) exists under ${lambdaRoot}; pass its module in handlerModules`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return handlerExport(require(path) as Record<string, unknown>, path, fn);
}

function handlerExport(module: Record<string, unknown> | { readonly handler: AnyLambdaHandler }, where: string, fn: HandlerFunctionInfo): LambdaHandler {
  const handler = (module as Record<string, unknown>).handler;
  if (typeof handler !== 'function') {
    throw new Error(`bindHandlers: expected ${where} (handler "${fn.handlerName}" of ${fn.logicalId}) to export a function named "handler", found ${typeof handler}`);
  }
  return handler as LambdaHandler;
}

const handlerPaths = new Map<string, string>();

/** lambda/**\/<name>-handler.ts (or .js when running compiled), searched under `root`. */
export function findHandlerModule(name: string, root: string): string | undefined {
  const cacheKey = `${root}\0${name}`;
  const cached = handlerPaths.get(cacheKey);
  if (cached) return cached;
  const preferred = extname(__filename) === '.ts' ? ['.ts', '.js'] : ['.js', '.ts'];
  const walk = (dir: string): string | undefined => {
    for (const ext of preferred) {
      const candidate = join(dir, `${name}${HANDLER_FILE_SUFFIX}${ext}`);
      if (existsSync(candidate)) return candidate;
    }
    for (const entry of readdirSync(dir).sort()) {
      const full = join(dir, entry);
      if (entry === 'node_modules' || !statSync(full).isDirectory()) continue;
      const found = walk(full);
      if (found) return found;
    }
    return undefined;
  };
  const found = existsSync(root) ? walk(root) : undefined;
  if (found) handlerPaths.set(cacheKey, found);
  return found;
}

/**
 * Binds functions that are not the library's (a rollout's traffic hooks, say) to in-process implementations, by the
 * logical id of their AWS::Lambda::Function in `template`, keyed by physical name as bindHandlers does. A logical id
 * that is not a Lambda function of the template is an error naming it and the functions there are.
 */
export function bindFunctions(template: CfnTemplate, functions: Readonly<Record<string, LambdaFunctionHandler>>, options: TemplateResolverOptions = {}): Map<string, LambdaFunctionHandler> {
  const resolver = new TemplateResolver(template, options);
  const known = resolver.resourcesOfType(LAMBDA_FUNCTION_TYPE).map((r) => r.logicalId);
  const bound = new Map<string, LambdaFunctionHandler>();
  for (const [logicalId, handler] of Object.entries(functions)) {
    if (!known.includes(logicalId)) {
      throw new Error(`bindFunctions: expected "${logicalId}" to be the logical id of a Lambda function of the template, found none of that id (functions: ${known.join(', ') || 'none'})`);
    }
    bound.set(String(resolver.ref(logicalId)), handler);
  }
  return bound;
}
