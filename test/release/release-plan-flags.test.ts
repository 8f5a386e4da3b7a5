/**
 * A release plan whose later flag rollout fails: the flags whose rollouts completed earlier in the plan are restored,
 * the latest first, then the plan halts (or, with keepCompletedFlags, they stay). The plan's synthesized state machine
 * runs in the rehearsal runner with the stack deployed into the AWS fakes (AppConfig's application, environment,
 * profile and the flags document included) and the real flag-rollout handler bound in-process, so the restore is the
 * rollout's own code against the AppConfig fake. The flag rollouts are child executions that do what a rollout does to
 * the document (the last phase deployed, or a rollout that rolled its own flag back) through that handler, then end;
 * the migration is a child that waits at its gate (its real state machine runs in release-plan-execution.test.ts).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { FlagRolloutConfig, FlagRolloutErrorName, GUARDED_RULE_NAME } from '../../lambda/flag-rollout/flag-rollout-contract';
import { parseFlagsDocument } from '../../lambda/flags/validate';
import { RELEASE_PLAN_KIND, ReleasePlanErrorName, ReleasePlanEvent } from '../../lambda/release/release-plan-contract';
import { setClock } from '../../lambda/shared/clock';
import { CONFIG_ENV } from '../../lambda/shared/contracts';
import { DatabaseTls } from '../../lib/database/database-tls';
import { SchemaMigration } from '../../lib/database/schema-migration';
import { FeatureFlags } from '../../lib/flags/feature-flags';
import { GuardedFlagRollout } from '../../lib/flags/guarded-flag-rollout';
import { ReleasePlan } from '../../lib/release/release-plan';
import { bindHandlers, CfnTemplate, handlerFunctionsOf, LambdaFunctionHandler, runStateMachine, stateMachineOf, VirtualClock } from '../../rehearsal';
import { Deployer } from '../../rehearsal/deployer';
import { AwsFakes, PutEventsParams } from '../../rehearsal/fakes';
import { importedRollout } from '../constructs/fixtures';

const FLAGS = ['new-checkout', 'fast-search', 'dark-mode'];
/** How each flag was before the plan: new-checkout with its own staff rule. */
const BEFORE = {
  'new-checkout': { enabled: true, default: false, rules: [{ name: 'staff', segments: ['internal'], serve: true }] },
  'fast-search': { enabled: true, default: false },
  'dark-mode': { enabled: true, default: false },
};
const MIGRATION = { name: 'add_plan', operations: [{ op: 'addColumn', table: 'users', column: { name: 'plan', type: 'text', nullable: true } }] };
const MINUTE = 60_000;

/** One stack: the migration, the imported traffic rollout, three guarded flag rollouts of one flags document, two plans. */
function synth(): CfnTemplate {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Release');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const migration = new SchemaMigration(stack, 'Migration', {
    vpc, secret: new secretsmanager.Secret(stack, 'DbSecret'), tls: DatabaseTls.DISABLE, gateTimeout: Duration.days(60), migration: MIGRATION as never,
  });
  const flags = new FeatureFlags(stack, 'Flags', { flags: { version: 1, flags: BEFORE } as never });
  const rollouts = FLAGS.map((flagKey) => new GuardedFlagRollout(stack, `Rollout-${flagKey}`, { flags, flagKey, serviceName: 'web' }));
  const rollout = importedRollout(stack, 'web');
  new ReleasePlan(stack, 'Plan', { migration, rollout, flagRollouts: rollouts });
  new ReleasePlan(stack, 'KeepPlan', { migration, rollout, flagRollouts: rollouts, keepCompletedFlags: true });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

interface Released {
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  /** The flags as the environment serves them at the end. */
  readonly served: Record<string, unknown>;
  /** The plan's events, in order, with the flag they name. */
  readonly events: string[];
  /** The flag-rollout handler's actions the plan itself invoked, in order ("rollback new-checkout"). */
  readonly planActions: string[];
}

/** Runs plan `planPath` (its construct id); flag rollouts before `failing` complete, `failing` rolls itself back. */
async function release(template: CfnTemplate, planId: string, failing: string): Promise<Released> {
  const clock = new VirtualClock();
  const restoreClock = setClock(clock);
  const aws = new AwsFakes({ clock }).install();
  try {
    const deployer = new Deployer(aws);
    await deployer.deploy([{ stackName: 'Release', template }]);
    // AppConfig's own deployment of the stack's document (its strategy's duration and bake) ends first.
    clock.advance(60 * MINUTE);
    const options = deployer.resolverOptions('Release');
    const migrationStatus = { handler: async (event: { action: string }) => (event.action === 'status' ? { waitingForGate: true } : {}) };
    const lambdas = bindHandlers(template, { migration: migrationStatus }, { ...options, environment: { ZDT_LOG_LEVEL: 'silent' } });
    const flagHandlers = handlerFunctionsOf(template, options).filter((f) => f.handlerName === 'flag-rollout')
      .map((f) => ({ fn: f, config: JSON.parse(f.environment[CONFIG_ENV]) as FlagRolloutConfig }));
    const machines = Object.entries(template.Resources ?? {}).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine').map(([id]) => stateMachineOf(template, id, options));
    const plan = machines.find((m) => m.logicalId.startsWith(planId) && JSON.stringify(template.Resources![m.logicalId].Metadata ?? {}).includes(RELEASE_PLAN_KIND))!;
    const flagOf = (stateMachineArn: string) => {
      const machine = machines.find((m) => m.stateMachineArn === stateMachineArn);
      return machine && flagHandlers.find((h) => JSON.stringify(machine.definition).includes(h.fn.functionArn));
    };
    const { applicationId, environmentId, configurationProfileId } = flagHandlers[0].config;
    const served = () => parseFlagsDocument(aws.appconfig.deployedContent(applicationId, environmentId, configurationProfileId)!).flags;
    const planActions: string[] = [];
    const call = (fn: LambdaFunctionHandler, payload: unknown, stateName: string) => fn(payload, { functionName: 'flag', stateName, executionArn: 'child', attempt: 1 });
    const run = await runStateMachine({
      definition: plan.definition,
      stateMachineArn: plan.stateMachineArn,
      executionName: 'release-1',
      clock,
      lambdas: new Map([...lambdas].map(([name, fn]) => [name, async (payload: unknown, invocation) => {
        const action = (payload as { action?: string }).action;
        const flag = flagHandlers.find((h) => h.fn.functionName === name || h.fn.functionArn === name);
        if (flag) planActions.push(`${action} ${flag.config.flagKey}`);
        return fn(payload, invocation);
      }])),
      stepFunctions: aws.stepfunctions,
      integrations: {
        'events:putEvents': (params) => aws.events.putEvents(params as PutEventsParams),
        'states:startExecution': (params) => ({ ExecutionArn: `${(params as { StateMachineArn: string }).StateMachineArn}:release-1`, StartDate: new Date(clock.now()).toISOString() }),
        'aws-sdk:sfn:describeExecution': (params) => ({ ExecutionArn: (params as { ExecutionArn: string }).ExecutionArn, Status: 'RUNNING' }),
        'states:startExecution.sync:2': async (params) => {
          const p = params as { StateMachineArn: string; Name: string };
          const arn = `${p.StateMachineArn.replace(':stateMachine:', ':execution:')}:${p.Name}`;
          const flag = flagOf(p.StateMachineArn);
          if (!flag) return { ExecutionArn: arn, Status: 'SUCCEEDED', Output: {} };
          // What the flag rollout does to the document: read the flag, deploy a phase, then the last phase or its own rollback.
          const fn = lambdas.get(flag.fn.functionName)!;
          const start = await call(fn, { action: 'start' }, 'Read Flag');
          const phase = (percent: number) => ({ number: 1, name: `${percent}%`, percent, durationSeconds: 0, intervalSeconds: 60, judge: false, pause: false });
          await call(fn, { action: 'setPhase', phase: phase(5) }, 'Deploy Phase');
          await clock.sleep(120 * MINUTE);
          if (flag.config.flagKey === failing) {
            await call(fn, { action: 'rollback', original: start }, 'Roll Back Flag');
            throw Object.assign(new Error(JSON.stringify({ ExecutionArn: arn, Status: 'FAILED', Error: FlagRolloutErrorName.ROLLED_BACK, Cause: `Flag ${failing} rolled back (judge-fail)` })), { name: 'States.TaskFailed' });
          }
          await call(fn, { action: 'setPhase', phase: phase(100) }, 'Deploy Phase');
          // The rollout's output is its final state: $.start among it.
          return { ExecutionArn: arn, Status: 'SUCCEEDED', Output: { start, plan: {}, cursor: { index: 5 } } };
        },
      },
    });
    return {
      status: run.status,
      error: run.error,
      cause: run.cause,
      served: served(),
      events: aws.events.events().filter((e) => e.detailType.startsWith('Release ')).map((e) => {
        const flag = (e.detail as { flag?: string }).flag;
        return flag ? `${e.detailType}: ${flag}` : e.detailType;
      }),
      planActions,
    };
  } finally {
    aws.restore();
    restoreClock();
  }
}

describe('a release plan whose later flag rollout fails', () => {
  const template = synth();
  const rolledOut = (flag: keyof typeof BEFORE) => ({ ...BEFORE[flag], rules: [...((BEFORE[flag] as { rules?: unknown[] }).rules ?? []), { name: GUARDED_RULE_NAME, percent: 100, serve: true }] });

  test('restores the flags that completed earlier in the plan, latest first, each to its definition before the plan, then halts', async () => {
    const r = await release(template, 'Plan', 'dark-mode');
    expect(r).toMatchObject({ status: 'FAILED', error: ReleasePlanErrorName.HALTED });
    expect(r.cause).toMatch(/^flag dark-mode failed \(ZdtFlagRolledBack: Flag dark-mode rolled back \(judge-fail\)\)\. The flags whose rollouts completed earlier in the plan are back to their definitions before the plan/);
    // Every flag is as it was before the plan: the failed one by its own rollback, the two completed ones by the plan.
    expect(r.served).toEqual(BEFORE);
    expect(r.planActions).toEqual(['rollback fast-search', 'checkDeployment fast-search', 'rollback new-checkout', 'checkDeployment new-checkout']);
    expect(r.events).toEqual([
      ReleasePlanEvent.STARTED, ReleasePlanEvent.MIGRATION_READY, ReleasePlanEvent.TRAFFIC_COMPLETED,
      `${ReleasePlanEvent.FLAG_COMPLETED}: new-checkout`, `${ReleasePlanEvent.FLAG_COMPLETED}: fast-search`,
      ReleasePlanEvent.ROLLBACK_TRIGGERED,
      `${ReleasePlanEvent.FLAG_ROLLED_BACK}: fast-search`, `${ReleasePlanEvent.FLAG_ROLLED_BACK}: new-checkout`,
      ReleasePlanEvent.HALTED,
    ]);
  });

  test('with keepCompletedFlags, the flags that completed stay rolled out and the plan halts at once', async () => {
    const r = await release(template, 'KeepPlan', 'dark-mode');
    expect(r).toMatchObject({ status: 'FAILED', error: ReleasePlanErrorName.HALTED });
    expect(r.served).toEqual({ 'new-checkout': rolledOut('new-checkout'), 'fast-search': rolledOut('fast-search'), 'dark-mode': BEFORE['dark-mode'] });
    expect(r.planActions).toEqual([]);
    expect(r.events.slice(-2)).toEqual([`${ReleasePlanEvent.FLAG_COMPLETED}: fast-search`, ReleasePlanEvent.HALTED]);
  });

  test('the first flag failing has nothing earlier to restore: the plan halts as before', async () => {
    const r = await release(template, 'Plan', 'new-checkout');
    expect(r).toMatchObject({ status: 'FAILED', error: ReleasePlanErrorName.HALTED });
    expect(r.served).toEqual(BEFORE);
    expect(r.planActions).toEqual([]);
    expect(r.events).not.toContain(ReleasePlanEvent.ROLLBACK_TRIGGERED);
  });
});
