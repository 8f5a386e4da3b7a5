/**
 * The flag rollout's execution guard, rehearsed end to end: the synthesized GuardedFlagRollout is deployed into the
 * AWS fakes and its state machine runs with its real handlers; someone stops the execution (StopExecution) while the
 * canary waits for its first judgement; Step Functions' "Execution Status Change" (ABORTED) goes through the stack's
 * own EventBridge rules (the simulated bus) to the guard, bound to its real code: the flag is back to its definition
 * before the rollout, deployed, and the lock is free at once (not at its lease's end).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FlagRolloutConfig, FlagRolloutEvent, GUARDED_RULE_NAME } from '../../lambda/flag-rollout/flag-rollout-contract';
import { parseFlagsDocument } from '../../lambda/flags/validate';
import { CONFIG_ENV, StateTable } from '../../lambda/shared/contracts';
import { FeatureFlags } from '../../lib/flags/feature-flags';
import { GuardedFlagRollout } from '../../lib/flags/guarded-flag-rollout';
import { bindHandlers, CfnTemplate, handlerFunctionsOf, runStateMachine, stateMachineOf, VirtualClock } from '../../rehearsal';
import { Deployer } from '../../rehearsal/deployer';
import { nativeIntegrations, openLocalAws } from '../../rehearsal/local-aws';
import { EXECUTION_STATUS_CHANGE, eventRulesOf, SimulatedEventBridge, STATES_EVENT_SOURCE } from '../../rehearsal/simulation-events';

const STACK = 'Shop';
const ORIGINAL = { enabled: true, default: false, rules: [{ name: 'staff', segments: ['internal'], serve: true }] };

function synth(): CfnTemplate {
  const app = new App({ builtinCloudFormationValidation: false } as never);
  const stack = new Stack(app, STACK);
  const flags = new FeatureFlags(stack, 'Flags', { flags: { version: 1, flags: { 'new-checkout': ORIGINAL } } as never });
  new GuardedFlagRollout(stack, 'NewCheckout', { flags, flagKey: 'new-checkout', serviceName: 'shop' });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

test('a flag rollout stopped in its canary: the ExecutionEnded rule runs the guard, which restores the flag and frees the lock', async () => {
  const template = synth();
  const clock = new VirtualClock();
  const local = openLocalAws(clock);
  const aws = local.aws;
  try {
    const deployer = new Deployer(aws);
    await deployer.deploy([{ stackName: STACK, template }]);
    clock.advance(60 * 60_000); // AppConfig's own deployment of the stack's document ends first.
    const options = deployer.resolverOptions(STACK);
    const functions = handlerFunctionsOf(template, options);
    const config = JSON.parse(functions.find((f) => f.handlerName === 'flag-rollout')!.environment[CONFIG_ENV]) as FlagRolloutConfig;
    const served = () => parseFlagsDocument(aws.appconfig.deployedContent(config.applicationId, config.environmentId, config.configurationProfileId)!).flags['new-checkout'];
    const lockTable = JSON.parse(functions.find((f) => f.handlerName === 'lock')!.environment[CONFIG_ENV]).tableName as string;
    const lockOwner = () => aws.dynamodb.items(lockTable)[0]?.[StateTable.LOCK_OWNER]?.S;
    const machineId = Object.entries(template.Resources ?? {}).find(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')![0];
    const machine = stateMachineOf(template, machineId, options);
    const lambdas = bindHandlers(template, {}, { ...options, environment: { ZDT_LOG_LEVEL: 'silent' } });

    // StopExecution once the canary (the second phase) is deployed and waits for its first judgement.
    const stop = new AbortController();
    let deployedPhases = 0;
    let servedWhenStopped: unknown;
    const run = await runStateMachine({
      definition: machine.definition, stateMachineArn: machine.stateMachineArn, clock, lambdas, stepFunctions: aws.stepfunctions,
      integrations: nativeIntegrations(aws),
      signal: stop.signal,
      onEvent: (event) => {
        if (event.type !== 'StateEntered') return;
        if (event.state === 'Phase Deployed') deployedPhases += 1;
        if (event.state === 'Wait For Judgement' && deployedPhases === 2 && !stop.signal.aborted) {
          servedWhenStopped = served();
          stop.abort();
        }
      },
    });
    expect(run.status).toBe('ABORTED');
    expect(servedWhenStopped).toMatchObject({ rules: [ORIGINAL.rules[0], { name: GUARDED_RULE_NAME, percent: 5 }] });
    expect(lockOwner()).toBe(run.executionArn);

    // Step Functions' status change reaches the stack's rules; the guard runs with its real code.
    const bus = new SimulatedEventBridge({
      clock, region: aws.region, accountId: aws.accountId, rules: eventRulesOf(STACK, template, options),
      lambda: (_stack, name) => ({ handler: lambdas.get(name)!, handlerName: functions.find((f) => f.functionName === name)?.handlerName }),
    });
    bus.publish(bus.envelope(STATES_EVENT_SOURCE, EXECUTION_STATUS_CHANGE, { executionArn: run.executionArn, stateMachineArn: machine.stateMachineArn, status: run.status }, [run.executionArn]));
    await bus.drain();

    expect(bus.invocations.map((i) => [i.handlerName, (i.result as { action?: string } | undefined)?.action])).toEqual([['flag-guard', 'restored']]);
    expect(served()).toEqual(ORIGINAL);
    expect(lockOwner()).toBeUndefined();
    const events = aws.events.events().filter((e) => e.detailType.startsWith('Flag Rollout'));
    expect(events.slice(-2).map((e) => e.detailType)).toEqual([FlagRolloutEvent.ROLLBACK_TRIGGERED, FlagRolloutEvent.ROLLED_BACK]);
    expect((events[events.length - 1].detail as { trigger: { kind: string } }).trigger.kind).toBe('execution-ended');
  } finally {
    local.close();
  }
});
