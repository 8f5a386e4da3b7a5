import { HANDLER_METADATA_KEY } from '../lambda/shared/contracts';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
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
const DEFAULT_LAMBDA_MEMORY_MB = 128;
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
  readonly memorySize: number;
}

export interface BindHandlersOptions extends TemplateResolverOptions {
  /** Folder searched for lambda/**\/<name>-handler.ts. @default - the lambda/ folder of this package */
  readonly lambdaRoot?: string;
  /** Variables set for every invocation, under the function's own (e.g. ZDT_LOG_LEVEL=silent). @default - none */
  readonly environment?: Readonly<Record<string, string>>;
}

/** Every AWS::Lambda::Function of the template whose Metadata names one of the library's handlers. */
export function handlerFunctionsOf(template: CfnTemplate, options: TemplateResolverOptions = {}): HandlerFunctionInfo[] {
  const resolver = new TemplateResolver(template, options);
  return resolver.resourcesOfType(LAMBDA_FUNCTION_TYPE)
    .filter(({ resource }) => typeof resource.Metadata?.[HANDLER_METADATA_KEY] === 'string')
    .map(({ logicalId, resource }) => {
      const properties = resolver.resourceProperties(logicalId);
      const variables = ((properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables) ?? {};
      return {
        logicalId,
        handlerName: resource.Metadata![HANDLER_METADATA_KEY] as string,
        functionName: resolver.ref(logicalId),
        functionArn: resolver.getAtt(logicalId, 'Arn'),
        environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
        timeoutSeconds: Number(properties.Timeout ?? DEFAULT_LAMBDA_TIMEOUT_SECONDS),
        memorySize: Number(properties.MemorySize ?? DEFAULT_LAMBDA_MEMORY_MB),
      };
    });
}

/**
 * Binds every function of the template whose Metadata has 'cdk-zero-downtime:handler' = <name> to
 * the `handler` export of lambda/**\/<name>-handler.ts (or of `handlerModules[name]` when given),
 * keyed by the function's physical name and ARN, ready for runStateMachine's `lambdas`.
 *
 * Each invocation runs with the function's resolved Environment.Variables (ZDT_CONFIG...) set in
 * process.env and restored afterwards. Invocations run one at a time, since process.env is shared;
 * a handler must not wait for another Lambda invocation.
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
/** Invocations wait here for each other: process.env is one for the whole process. */
let invocationQueue: Promise<unknown> = Promise.resolve();

function boundInvocation(fn: HandlerFunctionInfo, handler: LambdaHandler, extraEnvironment: Readonly<Record<string, string>>): LambdaFunctionHandler {
  return (payload: unknown, invocation: LambdaInvocation) => {
    const run = async (): Promise<unknown> => {
      const environment = { ...extraEnvironment, ...fn.environment, AWS_LAMBDA_FUNCTION_NAME: fn.functionName };
      const restore = setEnvironment(environment);
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
      try {
        return await handler(payload, context);
      } finally {
        restore();
      }
    };
    const result = invocationQueue.then(run, run);
    invocationQueue = result.catch(() => undefined);
    return result;
  };
}

/** Sets the variables and returns a function that puts the previous values back. */
function setEnvironment(variables: Readonly<Record<string, string>>): () => void {
  const previous = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(variables)) {
    previous.set(name, process.env[name]);
    process.env[name] = value;
  }
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
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
