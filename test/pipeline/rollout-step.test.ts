import { App, Stack, Stage, StageProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { RolloutAction, RolloutActionProps, RolloutPipelineStep, RolloutPipelineStepProps } from '../../lib/pipeline/rollout-step';
import { Color } from '../../lib/routing/color';
import { BlueGreenRouting } from '../../lib/routing/blue-green-routing';
import { ProgressiveRollout } from '../../lib/rollout/progressive-rollout';

const PIPELINE_ACCOUNT = '111111111111';
const EXECUTION_ID = '#{codepipeline.PipelineExecutionId}';

/** A VPC, an ALB, blue/green routing and a rollout of service "web". */
function serviceIn(stack: Stack): ProgressiveRollout {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Lb', { vpc, internetFacing: true });
  const listener = loadBalancer.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
  const routing = new BlueGreenRouting(stack, 'Routing', { vpc, loadBalancer, listener });
  return new ProgressiveRollout(stack, 'Rollout', { routing, serviceName: 'web' });
}

function resources(stack: Stack, type: string): [string, any][] {
  return Object.entries<any>(Template.fromStack(stack).toJSON().Resources).filter(([, r]) => r.Type === type);
}

function pipelineStages(stack: Stack): any[] {
  const [[, pipeline]] = resources(stack, 'AWS::CodePipeline::Pipeline');
  return pipeline.Properties.Stages;
}

function stepFunctionsActions(stack: Stack): any[] {
  return pipelineStages(stack).flatMap((s) => s.Actions).filter((a) => a.ActionTypeId.Provider === 'StepFunctions');
}

/** Policy statements attached to a role (by logical id), over all its policies. */
function statementsOfRole(stack: Stack, roleLogicalId: string): any[] {
  return resources(stack, 'AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleLogicalId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}

describe('RolloutAction (CodePipeline)', () => {
  function pipelineWith(props: Partial<RolloutActionProps> = {}, options: { separateStack?: boolean } = {}) {
    const app = new App({ builtinCloudFormationValidation: false });
    const env = { account: PIPELINE_ACCOUNT, region: 'us-east-1' };
    const serviceStack = new Stack(app, 'Service', { env });
    const rollout = serviceIn(serviceStack);
    const pipelineStack = options.separateStack ? new Stack(app, 'Delivery', { env }) : serviceStack;
    const source = new codepipeline.Artifact('Source');
    const bucket = new s3.Bucket(pipelineStack, 'Releases', { versioned: true });
    new codepipeline.Pipeline(pipelineStack, 'Pipeline', {
      stages: [
        { stageName: 'Source', actions: [new actions.S3SourceAction({ actionName: 'Release', bucket, bucketKey: 'release.zip', output: source })] },
        { stageName: 'Release', actions: [new RolloutAction({ rollout, ...props })] },
      ],
    });
    return { app, serviceStack, pipelineStack, rollout };
  }

  test('starts the rollout with the target color and a reason that carries the pipeline execution id', () => {
    const { serviceStack } = pipelineWith({ targetColor: Color.GREEN, reason: 'release 42', actionName: 'Canary', executionNamePrefix: 'pipeline' });
    const [action] = stepFunctionsActions(serviceStack);
    expect(action).toMatchObject({
      Name: 'Canary',
      ActionTypeId: { Category: 'Invoke', Owner: 'AWS', Provider: 'StepFunctions' },
      Configuration: { StateMachineArn: { Ref: expect.stringMatching(/^RolloutStateMachine/) }, InputType: 'Literal', ExecutionNamePrefix: 'pipeline' },
    });
    expect(JSON.parse(action.Configuration.Input)).toEqual({ targetColor: 'green', reason: `release 42 (pipeline execution ${EXECUTION_ID})` });
  });

  test('by default releases the idle color, with reason "CodePipeline"', () => {
    const { serviceStack } = pipelineWith();
    const [action] = stepFunctionsActions(serviceStack);
    expect(action.Name).toBe('Rollout');
    expect(JSON.parse(action.Configuration.Input)).toEqual({ reason: `CodePipeline (pipeline execution ${EXECUTION_ID})` });
  });

  test('the action\'s role may start this rollout and watch its executions', () => {
    const { serviceStack } = pipelineWith();
    const [action] = stepFunctionsActions(serviceStack);
    const roleId = action.RoleArn['Fn::GetAtt'][0];
    const statements = statementsOfRole(serviceStack, roleId);
    const smRef = { Ref: expect.stringMatching(/^RolloutStateMachine/) };
    expect(statements).toContainEqual(expect.objectContaining({ Action: ['states:StartExecution', 'states:DescribeStateMachine'], Resource: smRef }));
    const describe = statements.find((s) => s.Action === 'states:DescribeExecution');
    expect(JSON.stringify(describe.Resource)).toMatch(/:execution:.*RolloutStateMachine.*:\*/);
  });

  test('works from a pipeline in another stack of the app', () => {
    const { pipelineStack } = pipelineWith({}, { separateStack: true });
    const [action] = stepFunctionsActions(pipelineStack);
    expect(action.Configuration.StateMachineArn).toEqual({ 'Fn::ImportValue': expect.stringMatching(/RolloutStateMachine/) });
  });

  test.each([
    [{ targetColor: 'purple' as never }, /targetColor of a pipeline rollout must be Color.BLUE or Color.GREEN \("blue" or "green"\), got "purple"/],
    [{ executionNamePrefix: 'release 42' }, /executionNamePrefix of a pipeline rollout must be 1-40 letters, digits, "-" or "_", got "release 42"/],
  ])('refuses %p, naming the rollout', (props, message) => {
    expect(() => pipelineWith(props)).toThrow(message);
  });
});

describe('RolloutPipelineStep (CDK Pipelines)', () => {
  class ServiceStage extends Stage {
    public readonly stack: Stack;
    public readonly rollout: ProgressiveRollout;
    constructor(scope: Construct, id: string, props?: StageProps) {
      super(scope, id, props);
      this.stack = new Stack(this, 'Service');
      this.rollout = serviceIn(this.stack);
    }
  }

  function pipelineWith(stepProps: Partial<RolloutPipelineStepProps> = {}, stageProps?: StageProps) {
    const app = new App({ builtinCloudFormationValidation: false });
    const pipelineStack = new Stack(app, 'Delivery', { env: { account: PIPELINE_ACCOUNT, region: 'us-east-1' } });
    const pipeline = new pipelines.CodePipeline(pipelineStack, 'Pipeline', {
      crossAccountKeys: stageProps?.env !== undefined,
      synth: new pipelines.ShellStep('Synth', {
        input: pipelines.CodePipelineSource.connection('everjust/web', 'main', {
          connectionArn: `arn:aws:codestar-connections:us-east-1:${PIPELINE_ACCOUNT}:connection/0123`,
        }),
        commands: ['npm ci', 'npx cdk synth'],
      }),
    });
    const stage = new ServiceStage(pipelineStack, 'Prod', stageProps);
    const step = new RolloutPipelineStep('Rollout', { rollout: stage.rollout, ...stepProps });
    pipeline.addStage(stage, { post: [step] });
    return { app, pipelineStack, stage, step };
  }

  test('runs after the stage\'s stack is deployed, reading the state machine ARN from the stack\'s output', () => {
    const { pipelineStack, stage } = pipelineWith({ targetColor: Color.BLUE, reason: 'release 42' });
    const prod = pipelineStages(pipelineStack).find((s) => s.Name === 'Prod');
    const deploy = prod.Actions.find((a: any) => a.Name === 'Service.Deploy');
    const rollout = prod.Actions.find((a: any) => a.ActionTypeId.Provider === 'StepFunctions');
    expect(rollout).toMatchObject({ Name: 'Rollout', ActionTypeId: { Category: 'Invoke' }, Configuration: { InputType: 'Literal' } });
    expect(rollout.RunOrder).toBeGreaterThan(deploy.RunOrder);
    expect(JSON.parse(rollout.Configuration.Input)).toEqual({ targetColor: 'blue', reason: `release 42 (pipeline execution ${EXECUTION_ID})` });

    const [, namespace, outputName] = /^#\{([^.]+)\.([^}]+)\}$/.exec(rollout.Configuration.StateMachineArn) ?? [];
    expect(namespace).toBe(deploy.Namespace);
    const outputs = Template.fromStack(stage.stack).toJSON().Outputs;
    expect(outputs[outputName].Value).toEqual({ Ref: stage.stack.getLogicalId(stage.rollout.stateMachine.node.defaultChild as any) });
  });

  test('the pipeline assumes a role in the rollout\'s stack that may start and watch this rollout only', () => {
    const { pipelineStack, stage, step } = pipelineWith();
    const [action] = stepFunctionsActions(pipelineStack);
    const roleName = Template.fromStack(stage.stack).toJSON().Resources[stage.stack.getLogicalId(step.role.node.defaultChild as any)].Properties.RoleName;
    expect(roleName).toMatch(/^[\w+=,.@-]{1,64}$/);
    const roleArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${PIPELINE_ACCOUNT}:role/${roleName}`]] };
    expect(action.RoleArn).toEqual(roleArn);
    const pipelineRoleStatements = resources(pipelineStack, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(pipelineRoleStatements).toContainEqual({ Action: 'sts:AssumeRole', Effect: 'Allow', Resource: roleArn });

    const sm = { Ref: stage.stack.getLogicalId(stage.rollout.stateMachine.node.defaultChild as any) };
    const statements = statementsOfRole(stage.stack, stage.stack.getLogicalId(step.role.node.defaultChild as any));
    expect(statements.map((s) => s.Action)).toEqual(['states:StartExecution', 'states:DescribeStateMachine', 'states:DescribeExecution']);
    expect(statements[0].Resource).toEqual(sm);
    expect(statements[1].Resource).toEqual(sm);
    expect(JSON.stringify(statements[2].Resource)).toContain(`:execution:",{"Fn::Select":[6,{"Fn::Split":[":",${JSON.stringify(sm)}]}]},":*"`);
    // Env-agnostic stage: deployed to the pipeline's account, which the role trusts.
    expect(Template.fromStack(stage.stack).toJSON().Resources[stage.stack.getLogicalId(step.role.node.defaultChild as any)]
      .Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRole', Effect: 'Allow',
      Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
    }]);
  });

  test('runs in the rollout\'s account and region, trusting the pipeline account, when the stage is elsewhere', () => {
    const { pipelineStack, stage, step } = pipelineWith({ pipelineAccount: PIPELINE_ACCOUNT }, { env: { account: '222222222222', region: 'eu-west-1' } });
    const [action] = stepFunctionsActions(pipelineStack);
    expect(action.Region).toBe('eu-west-1');
    expect(JSON.stringify(action.RoleArn)).toContain(':iam::222222222222:role/');
    const role = Template.fromStack(stage.stack).toJSON().Resources[stage.stack.getLogicalId(step.role.node.defaultChild as any)];
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain(`:iam::${PIPELINE_ACCOUNT}:root`);
  });

  test('fails when the stage is in another account and pipelineAccount is not given', () => {
    const { app } = pipelineWith({}, { env: { account: '222222222222', region: 'us-east-1' } });
    expect(() => app.synth()).toThrow(/RolloutPipelineStep Rollout: the rollout is in account 222222222222 and the pipeline in account 111111111111: pass pipelineAccount: '111111111111'/);
  });
});
