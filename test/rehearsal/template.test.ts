import { CfnTemplate, placeholderValue, stateMachineOf, stateMachinesOf, TemplateResolver } from '../../rehearsal';
import { synthProbeTemplate } from './fixtures/probe-stack';

describe('stateMachineOf', () => {
  let template: CfnTemplate;
  beforeAll(() => {
    template = synthProbeTemplate();
  });

  test('resolves the DefinitionString of a synthesized stack to ASL with placeholder physical ids', () => {
    const machine = stateMachineOf(template);
    const states = machine.definition.States;

    expect(machine.logicalId).toMatch(/^ProbeMachine/);
    expect(states.Describe).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:ProbeB22986FB' },
    });
    expect(states.Flaky.Resource).toBe('arn:aws:lambda:us-east-1:123456789012:function:ProbeB22986FB');
    expect(states.RecordLiveColor.Parameters).toMatchObject({ TableName: 'StateTable9728C7E5' });
    expect(states.Notify.Parameters).toMatchObject({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:Notifications87298708' });
    expect(machine.stateMachineArn).toBe(`arn:aws:states:us-east-1:123456789012:stateMachine:${machine.logicalId}`);
    expect(machine.properties.RoleArn).toMatch(/^arn:aws:iam::123456789012:role\//);
  });

  test('takes physical ids and the environment from the deployer', () => {
    const machine = stateMachineOf(template, undefined, {
      region: 'eu-west-1',
      accountId: '111122223333',
      resolver: (logicalId, attribute) => (logicalId.startsWith('Probe') && attribute === 'Arn' ? 'arn:aws:lambda:eu-west-1:111122223333:function:probe-fn' : undefined),
    });
    expect(machine.definition.States.Flaky.Resource).toBe('arn:aws:lambda:eu-west-1:111122223333:function:probe-fn');
    expect(machine.definition.States.Notify.Parameters).toMatchObject({ TopicArn: 'arn:aws:sns:eu-west-1:111122223333:Notifications87298708' });
  });

  test('resolves a resource\'s properties, such as the tokens inside a Lambda\'s ZDT_CONFIG', () => {
    const resolver = new TemplateResolver(template);
    const [probe] = resolver.resourcesOfType('AWS::Lambda::Function');
    const properties = resolver.resourceProperties(probe.logicalId) as { Environment: { Variables: { ZDT_CONFIG: string } } };
    expect(JSON.parse(properties.Environment.Variables.ZDT_CONFIG)).toEqual({
      label: 'probe',
      tableName: 'StateTable9728C7E5',
      topicArn: 'arn:aws:sns:us-east-1:123456789012:Notifications87298708',
    });
  });

  test('asks for a logical id when a template holds several state machines, and names a missing one', () => {
    const machine = { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: '{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}' } };
    const two: CfnTemplate = { Resources: { One: machine, Two: machine } };
    expect(() => stateMachineOf(two)).toThrow(/expected exactly one AWS::StepFunctions::StateMachine, found 2 \(One, Two\)/);
    expect(stateMachinesOf(two).map((m) => m.logicalId)).toEqual(['One', 'Two']);
    expect(() => stateMachineOf(two, 'Three')).toThrow(/logical id "Three", found none/);
  });
});

describe('TemplateResolver', () => {
  const template: CfnTemplate = {
    Parameters: { Stage: { Type: 'String', Default: 'prod' } },
    Mappings: { Sizes: { prod: { Memory: '512' } } },
    Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] }, IsDev: { 'Fn::Not': [{ Condition: 'IsProd' }] } },
    Resources: {
      Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
      Tg: { Type: 'AWS::ElasticLoadBalancingV2::TargetGroup', Properties: {} },
      Json: { Type: 'Custom::AWSCDKCfnJson', Properties: { Value: { arn: { 'Fn::GetAtt': ['Fn', 'Arn'] } } } },
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          DefinitionString: '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${fn}","End":true}}}',
          DefinitionSubstitutions: { fn: { 'Fn::GetAtt': ['Fn', 'Arn'] } },
        },
      },
    },
  };
  const resolver = new TemplateResolver(template);

  test('resolves Fn::Sub with pseudo parameters, attributes, variables and escapes', () => {
    expect(resolver.resolve({ 'Fn::Sub': ['${AWS::Region}/${Fn.Arn}/${Name}/${!Literal}/${Stage}', { Name: { Ref: 'Fn' } }] }))
      .toBe('us-east-1/arn:aws:lambda:us-east-1:123456789012:function:Fn/Fn/${Literal}/prod');
  });

  test('resolves conditions, Fn::If and AWS::NoValue', () => {
    expect(resolver.resolve({ a: { 'Fn::If': ['IsProd', 'big', 'small'] }, b: { 'Fn::If': ['IsDev', 'x', { Ref: 'AWS::NoValue' }] } })).toEqual({ a: 'big' });
  });

  test('resolves Fn::Select, Fn::Split, Fn::FindInMap and Fn::Join', () => {
    expect(resolver.resolve({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] })).toBe('b');
    expect(resolver.resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'Memory'] })).toBe('512');
    expect(resolver.resolve({ 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, { Ref: 'AWS::AccountId' }]] })).toBe('arn:aws:123456789012');
  });

  test('renders a CfnJson value as the JSON of its resolved Value', () => {
    expect(JSON.parse(resolver.getAtt('Json', 'Value'))).toEqual({ arn: 'arn:aws:lambda:us-east-1:123456789012:function:Fn' });
  });

  test('applies DefinitionSubstitutions', () => {
    expect(stateMachineOf(template, 'Machine').definition.States.A.Resource).toBe('arn:aws:lambda:us-east-1:123456789012:function:Fn');
  });

  test('says which logical id, parameter or export it cannot resolve', () => {
    expect(() => resolver.resolve({ Ref: 'Missing' })).toThrow(/logical id "Missing", found none/);
    expect(() => resolver.resolve({ 'Fn::ImportValue': 'SharedVpc' })).toThrow(/export "SharedVpc"; pass it in options.imports/);
    expect(new TemplateResolver(template, { imports: { SharedVpc: 'vpc-1' } }).resolve({ 'Fn::ImportValue': 'SharedVpc' })).toBe('vpc-1');
  });
});

describe('placeholderValue', () => {
  test('gives ALB resources ARNs and full names of the shape CloudWatch dimensions use', () => {
    const tgArn = placeholderValue('AWS::ElasticLoadBalancingV2::TargetGroup', 'BlueTg', undefined);
    const tgFullName = placeholderValue('AWS::ElasticLoadBalancingV2::TargetGroup', 'BlueTg', 'TargetGroupFullName');
    expect(tgArn).toMatch(/^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup\/BlueTg\/[0-9a-f]{16}$/);
    expect(tgArn.endsWith(tgFullName)).toBe(true);
    const lbFullName = placeholderValue('AWS::ElasticLoadBalancingV2::LoadBalancer', 'Alb', 'LoadBalancerFullName');
    expect(lbFullName).toMatch(/^app\/Alb\/[0-9a-f]{16}$/);
    expect(placeholderValue('AWS::ElasticLoadBalancingV2::LoadBalancer', 'Alb', undefined)).toBe(`arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/${lbFullName}`);
    expect(placeholderValue('AWS::ElasticLoadBalancingV2::Listener', 'Http', undefined)).toMatch(/:listener\/app\/Http\/[0-9a-f]{16}\/[0-9a-f]{16}$/);
  });

  test('gives each resource type the Ref CloudFormation gives it', () => {
    expect(placeholderValue('AWS::DynamoDB::Table', 'T', undefined)).toBe('T');
    expect(placeholderValue('AWS::SNS::Topic', 'Topic', undefined)).toBe('arn:aws:sns:us-east-1:123456789012:Topic');
    expect(placeholderValue('AWS::Events::EventBus', 'Bus', 'Arn')).toBe('arn:aws:events:us-east-1:123456789012:event-bus/Bus');
    expect(placeholderValue('AWS::CloudWatch::Alarm', 'HighErrors', undefined)).toBe('HighErrors');
    expect(placeholderValue('Custom::ZdtLiveRoute', 'Route', 'RuleArn')).toBe('Route.RuleArn');
  });
});
