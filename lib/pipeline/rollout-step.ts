import { Arn, ArnFormat, CfnOutput, Names, Stack, Token } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  CodePipelineActionFactoryResult, ICodePipelineActionFactory, ProduceActionOptions, StackOutputReference, Step,
} from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { RolloutInput } from '../../lambda/shared/contracts';
import { isColorValue, wireColor } from '../private/colors';
import { acknowledge, iam5Resource } from '../private/nag';
import { IProgressiveRollout } from '../rollout/progressive-rollout';
import { Color } from '../routing/color';

/** What a pipeline action passes to the rollout it starts. */
export interface RolloutActionOptions {
  /**
   * Color to release.
   * @default - the color that does not carry production traffic
   */
  readonly targetColor?: Color;
  /**
   * Text of the rollout's `reason` (it travels with every rollout event and notification); the pipeline execution
   * id is appended.
   * @default 'CodePipeline'
   */
  readonly reason?: string;
  /**
   * Prefix of the rollout's execution name (the action execution id follows it).
   * @default - the action execution id alone
   */
  readonly executionNamePrefix?: string;
}

/** Props of RolloutAction. */
export interface RolloutActionProps extends RolloutActionOptions {
  /** The rollout to start (a ProgressiveRollout, or one imported with `fromProgressiveRolloutAttributes()`). */
  readonly rollout: IProgressiveRollout;
  /**
   * Name of the action in its stage.
   * @default 'Rollout'
   */
  readonly actionName?: string;
  /**
   * Order of the action in its stage.
   * @default 1
   */
  readonly runOrder?: number;
  /**
   * Role the action runs with; it receives the permissions to start and watch the rollout.
   * @default - a role CodePipeline creates for the action
   */
  readonly role?: iam.IRole;
}

const DEFAULT_REASON = 'CodePipeline';
const DEFAULT_ACTION_NAME = 'Rollout';
/** Longest execution name prefix: Step Functions names are at most 80 characters, the action execution id takes 37. */
const MAX_EXECUTION_NAME_PREFIX = 40;
/** Longest IAM role name. */
const MAX_ROLE_NAME = 64;

/**
 * A CodePipeline action that starts a progressive rollout and waits for its execution to end: the action
 * succeeds when the new color is live, and fails (and with it the stage) when the rollout rolls back, is refused
 * (another rollout running, no healthy targets, the target already live) or fails.
 *
 * The action's role gets what it needs from the action itself (start the state machine, describe it and its
 * executions). The rollout's `reason` carries the pipeline execution id.
 *
 * For CDK Pipelines (`aws-cdk-lib/pipelines`), use `RolloutPipelineStep` instead.
 * `stage.addAction(new RolloutAction({ rollout, reason: 'release' }))`.
 */
export class RolloutAction extends actions.StepFunctionInvokeAction {
  constructor(props: RolloutActionProps) {
    checkOptions(props.rollout, props);
    super({
      actionName: props.actionName ?? DEFAULT_ACTION_NAME,
      runOrder: props.runOrder,
      role: props.role,
      stateMachine: props.rollout.stateMachine,
      stateMachineInput: actions.StateMachineInput.literal(rolloutInput(props)),
      executionNamePrefix: props.executionNamePrefix,
    });
  }
}

/** Props of RolloutPipelineStep. */
export interface RolloutPipelineStepProps extends RolloutActionOptions {
  /** The rollout to run: a construct in a stack of the stage this step follows (or one imported there). */
  readonly rollout: IProgressiveRollout;
  /**
   * Account the pipeline runs in: it is trusted to assume the role the step starts the rollout with.
   * @default - the rollout's account (a pipeline that deploys to its own account)
   */
  readonly pipelineAccount?: string;
}

/**
 * A CDK Pipelines step that runs a progressive rollout after a stage is deployed, and fails the stage when the
 * rollout rolls back: `pipeline.addStage(stage, { post: [new RolloutPipelineStep('Rollout', { rollout })] })`.
 * It becomes a CodePipeline Step Functions action that waits for the rollout's execution to end.
 *
 * A stage is a separate cloud assembly: the pipeline stack cannot reference the rollout's resources. So the step
 * adds two things to the rollout's own stack, and must therefore be created before the stage is added to the
 * pipeline: an output with the state machine ARN (the action reads it as a CodePipeline variable once the stack is
 * deployed), and a role that may start and watch this one state machine, with a fixed name, that the pipeline
 * assumes to run the action. Cross-account: set `pipelineAccount` to the pipeline's account.
 */
export class RolloutPipelineStep extends Step implements ICodePipelineActionFactory {
  /** The role the action runs with (in the rollout's stack). */
  public readonly role: iam.Role;
  private readonly roleName: string;
  private readonly stateMachineArnOutput: StackOutputReference;
  private readonly rolloutStack: Stack;
  private readonly options: RolloutActionOptions;
  private readonly pipelineAccount?: string;

  constructor(id: string, props: RolloutPipelineStepProps) {
    super(id);
    checkOptions(props.rollout, props);
    this.options = props;
    this.pipelineAccount = props.pipelineAccount;
    this.rolloutStack = Stack.of(props.rollout);

    const scope = new Construct(props.rollout, `PipelineStep${constructId(id)}`);
    // A fixed name: the pipeline stack, in another cloud assembly, derives the role's ARN from it.
    this.roleName = Names.uniqueResourceName(scope, { maxLength: MAX_ROLE_NAME, separator: '-' });
    this.role = new iam.Role(scope, 'Role', {
      roleName: this.roleName,
      assumedBy: new iam.AccountPrincipal(props.pipelineAccount ?? this.rolloutStack.account),
      description: `Lets the pipeline step ${id} start and watch the rollouts of ${props.rollout.serviceName}`,
    });
    props.rollout.grantStartRollout(this.role);
    props.rollout.stateMachine.grant(this.role, 'states:DescribeStateMachine');
    props.rollout.stateMachine.grantExecution(this.role, 'states:DescribeExecution');
    // As grantExecution renders it: the executions of this state machine.
    const executions = `${this.rolloutStack.formatArn({
      service: 'states',
      resource: 'execution',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: Arn.split(props.rollout.stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName,
    })}:*`;
    acknowledge(this.role, iam5Resource(this.role, executions),
      'The executions of this one state machine: their names are chosen when the pipeline starts them');

    const output = new CfnOutput(scope, 'StateMachineArn', {
      value: props.rollout.stateMachine.stateMachineArn,
      description: `State machine the pipeline step ${id} starts`,
    });
    this.stateMachineArnOutput = StackOutputReference.fromCfnOutput(output);
  }

  /** The stack output this step reads (the rollout's state machine ARN). */
  public get consumedStackOutputs(): StackOutputReference[] {
    return [this.stateMachineArnOutput];
  }

  /** Adds the Step Functions action that runs the rollout to `stage` (called by CDK Pipelines). */
  public produceAction(stage: codepipeline.IStage, options: ProduceActionOptions): CodePipelineActionFactoryResult {
    const pipelineStack = Stack.of(options.scope);
    const account = Token.isUnresolved(this.rolloutStack.account) ? pipelineStack.account : this.rolloutStack.account;
    const region = Token.isUnresolved(this.rolloutStack.region) ? pipelineStack.region : this.rolloutStack.region;
    if (this.pipelineAccount === undefined && !Token.isUnresolved(pipelineStack.account) && !Token.isUnresolved(this.rolloutStack.account)
      && pipelineStack.account !== this.rolloutStack.account) {
      throw new Error(`RolloutPipelineStep ${this.id}: the rollout is in account ${this.rolloutStack.account} and the pipeline in account ${pipelineStack.account}: pass pipelineAccount: '${pipelineStack.account}' so that the rollout's role trusts the pipeline`);
    }
    const stateMachineArn = options.stackOutputsMap.toCodePipeline(this.stateMachineArnOutput);
    const scope = new Construct(options.scope, `${constructId(stage.stageName)}${constructId(options.actionName)}Rollout`);
    const role = iam.Role.fromRoleArn(scope, 'Role', pipelineStack.formatArn({
      service: 'iam', region: '', account, resource: 'role', resourceName: this.roleName,
    }), { mutable: false });
    // Says where the action runs (account and region); the configuration gets the ARN from the stack output.
    const stateMachine = sfn.StateMachine.fromStateMachineArn(scope, 'StateMachine', pipelineStack.formatArn({
      service: 'states', account, region, resource: 'stateMachine', arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: stateMachineArn,
    }));
    stage.addAction(new OutputArnStepFunctionInvokeAction({
      actionName: options.actionName,
      runOrder: options.runOrder,
      role,
      stateMachine,
      stateMachineInput: actions.StateMachineInput.literal(rolloutInput(this.options)),
      executionNamePrefix: this.options.executionNamePrefix,
    }, stateMachineArn));
    return { runOrdersConsumed: 1 };
  }
}

/**
 * A Step Functions invoke action whose state machine ARN is a CodePipeline variable (`#{namespace.output}`),
 * resolved when the action runs. Its role is the rollout's own, with its permissions already in place.
 */
class OutputArnStepFunctionInvokeAction extends actions.StepFunctionInvokeAction {
  constructor(props: actions.StepFunctionsInvokeActionProps, private readonly stateMachineArnVariable: string) {
    super(props);
  }

  protected bound(scope: Construct, stage: codepipeline.IStage, options: codepipeline.ActionBindOptions): codepipeline.ActionConfig {
    const config = super.bound(scope, stage, options);
    return { ...config, configuration: { ...config.configuration, StateMachineArn: this.stateMachineArnVariable } };
  }
}

function rolloutInput(options: RolloutActionOptions): RolloutInput {
  return {
    ...(options.targetColor ? { targetColor: wireColor(options.targetColor) } : {}),
    reason: `${options.reason ?? DEFAULT_REASON} (pipeline execution ${codepipeline.GlobalVariables.executionId})`,
  };
}

function checkOptions(rollout: IProgressiveRollout, options: RolloutActionOptions): void {
  if (options.targetColor !== undefined && !isColorValue(options.targetColor)) {
    throw new Error(`${rollout.node.path}: targetColor of a pipeline rollout must be Color.BLUE or Color.GREEN ("blue" or "green"), got ${JSON.stringify(options.targetColor)}`);
  }
  const prefix = options.executionNamePrefix;
  if (prefix !== undefined && !Token.isUnresolved(prefix) && !new RegExp(`^[A-Za-z0-9_-]{1,${MAX_EXECUTION_NAME_PREFIX}}$`).test(prefix)) {
    throw new Error(`${rollout.node.path}: executionNamePrefix of a pipeline rollout must be 1-${MAX_EXECUTION_NAME_PREFIX} letters, digits, "-" or "_", got "${prefix}"`);
  }
}

/** A construct id from free text (step ids and action names may hold characters construct ids do not allow). */
function constructId(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, '');
}
