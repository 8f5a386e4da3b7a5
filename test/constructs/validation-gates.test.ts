import { Duration, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ValidationGate } from '../../lib';
import { definitionOf, handlerConfigOf, network, rollout } from './fixtures';

describe('ValidationGate', () => {
  test('an HTTP gate runs first before traffic, in the VPC, calling the listener with its endpoints, and may reach the listener', () => {
    const f = network();
    rollout(f, { preTrafficGates: [ValidationGate.http({ endpoints: ['/health', '/api/users/me', '/api/projects'], maxLatency: Duration.millis(500) })] });
    const template = Template.fromStack(f.stack);

    const config = handlerConfigOf(template, 'http-gate');
    expect(config).toEqual({
      name: 'HTTP check',
      baseUrl: 'http://TOKEN',
      endpoints: [{ path: '/health', method: 'GET' }, { path: '/api/users/me', method: 'GET' }, { path: '/api/projects', method: 'GET' }],
      maxStatusExclusive: 400,
      maxLatencyMs: 500,
      requestTimeoutMs: 5000,
      attempts: 3,
      retryDelayMs: 2000,
    });
    // 3 endpoints x (3 x 5 s + 2 x 2 s) + 15 s to start.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 72,
      VpcConfig: Match.objectLike({ SecurityGroupIds: Match.anyValue(), SubnetIds: Match.anyValue() }),
      Environment: { Variables: { ZDT_CONFIG: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^Lb'), 'DNSName'] })])] }) } },
    });
    // The load balancer's security group lets the gate in on the listener's port.
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 80, ToPort: 80, IpProtocol: 'tcp',
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RolloutPreTrafficGate1FunctionSecurityGroup'), 'GroupId'] },
    });
    const states = definitionOf(f.stack).States;
    expect(states['Started Sent'].Next).toBe('Pre-Traffic Hook 1 Begins');
    expect(states['Pre-Traffic Hook 1'].Parameters.testRoute).toEqual({ 'header': 'x-zdt-color', 'value.$': '$.colors.target' });
  });

  test('gates of both phases run as hooks and count in the lock\'s lifetime', () => {
    const f = network();
    const withGates = rollout(f, {
      preTrafficGates: [ValidationGate.http({ endpoints: ['/health'] })],
      postTrafficGates: [ValidationGate.http({ endpoints: ['/health'], name: 'Post check' })],
      hookTimeout: Duration.minutes(2),
    });
    expect(withGates.plan.hookSeconds).toBe(240);
    const states = definitionOf(f.stack).States;
    expect(states['Post-Traffic Hook 1']).toBeDefined();
    expect(states['Pre-Traffic Hook 2']).toBeUndefined();
  });

  test('a database gate reads its secret (and only it) and can be let into the database', () => {
    const f = network();
    const secret = new secretsmanager.Secret(f.stack, 'DbSecret');
    const gate = ValidationGate.database({ secret });
    rollout(f, { preTrafficGates: [gate] });
    const db = new ec2.SecurityGroup(f.stack, 'DbSg', { vpc: f.vpc });
    db.connections.allowFrom(gate, ec2.Port.tcp(5432));
    const template = Template.fromStack(f.stack);

    expect(handlerConfigOf(template, 'database-gate')).toEqual({
      name: 'Database check', secretArn: 'TOKEN', timeoutMs: 1000, attempts: 3, retryDelayMs: 2000, tls: 'require',
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: Match.stringLikeRegexp('^DbSecret') },
      })]) },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 5432, GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbSg'), 'GroupId'] } });
    // 3 tries x 1 s + 2 waits x 2 s + 15 s to start (and read the secret).
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 22, Description: Match.stringLikeRegexp('Database check') });
  });

  test('a database gate can import its secret by name (a data stack deployed after the rollout)', () => {
    const f = network();
    rollout(f, { preTrafficGates: [ValidationGate.database({ secretName: 'everjust/database', timeout: Duration.millis(800) })] });
    const template = Template.fromStack(f.stack);

    expect(handlerConfigOf(template, 'database-gate', '*')).toMatchObject({ secretArn: 'arn:*:secretsmanager:us-east-1:*:secret:everjust/database', timeoutMs: 800 });
  });

  test('a stack with every gate has no unacknowledged cdk-nag finding', () => {
    const f = network();
    const secret = new secretsmanager.Secret(f.stack, 'DbSecret');
    const project = new codebuild.Project(f.stack, 'E2e', { buildSpec: codebuild.BuildSpec.fromObject({ version: '0.2', phases: { build: { commands: ['npm test || true'] } } }) });
    const reportGroup = new codebuild.ReportGroup(f.stack, 'E2eReports');
    rollout(f, { preTrafficGates: [
      ValidationGate.http({ endpoints: ['/health'] }), ValidationGate.database({ secret }),
      ValidationGate.performanceBaseline({ endpoints: ['/health'], samples: 5 }), ValidationGate.functionalTests({ project, reportGroup }),
    ] });
    // The test's own network, secret and project are not the library's: their findings are set aside here, by id.
    Validations.of(project).acknowledge({ id: 'AwsSolutions-CB4', reason: 'test fixture' });
    for (const id of ['arn:<AWS::Partition>:logs:us-east-1:<AWS::AccountId>:log-group:/aws/codebuild/<E2eC8CC8D66>:*', 'arn:<AWS::Partition>:codebuild:us-east-1:<AWS::AccountId>:report-group/<E2eC8CC8D66>-*']) {
      Validations.of(project).acknowledge({ id: `AwsSolutions-IAM5[Resource::${id}]`, reason: 'test fixture' });
    }
    Validations.of(f.vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'test fixture' });
    Validations.of(f.loadBalancer).acknowledge({ id: 'AwsSolutions-ELB2', reason: 'test fixture' });
    Validations.of(f.loadBalancer).acknowledge({ id: 'AwsSolutions-EC23', reason: 'test fixture' });
    Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'test fixture' });
    Validations.of(f.app).addPlugins(new AwsSolutionsChecks(f.app));
    expect(() => f.app.synth()).not.toThrow();
  });

  test('a performance-baseline gate compares the colors through the test route, with a timeout that covers every sample', () => {
    const f = network();
    rollout(f, { preTrafficGates: [ValidationGate.performanceBaseline({ endpoints: ['/api/projects', '/api/users/me'], samples: 5, maxLatencyFactor: 1.3 })] });
    const template = Template.fromStack(f.stack);

    expect(handlerConfigOf(template, 'performance-gate')).toEqual({
      name: 'Performance baseline', baseUrl: 'http://TOKEN', endpoints: [{ path: '/api/projects', method: 'GET' }, { path: '/api/users/me', method: 'GET' }],
      samples: 5, percentile: 50, maxLatencyFactor: 1.3, minDifferenceMs: 50, requestTimeoutMs: 2000, maxStatusExclusive: 400,
    });
    // 2 endpoints x (5 + 1 warm-up) x 2 colors x 2 s + 15 s to start.
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 63, Description: Match.stringLikeRegexp('Performance baseline') });
  });

  test('a functional-test gate runs the CodeBuild project with the new color\'s address, reads its reports, then judges them', () => {
    const f = network();
    const project = new codebuild.Project(f.stack, 'E2e', { buildSpec: codebuild.BuildSpec.fromObject({ version: '0.2', phases: { build: { commands: ['npm test || true'] } } }) });
    const reportGroup = new codebuild.ReportGroup(f.stack, 'E2eReports');
    const r = rollout(f, { preTrafficGates: [ValidationGate.functionalTests({ project, reportGroup, timeout: Duration.hours(1) })], hookTimeout: Duration.minutes(2) });
    const template = Template.fromStack(f.stack);
    const states = definitionOf(f.stack).States;

    expect(states['Pre-Traffic Hook 1 Begins'].Next).toBe('Pre-Traffic Hook 1 Test Build');
    const build = states['Pre-Traffic Hook 1 Test Build'];
    expect(build.Resource).toMatch(/:states:::codebuild:startBuild\.sync$/);
    expect(build).toMatchObject({ TimeoutSeconds: 3600, ResultPath: '$.testRun', ResultSelector: { 'build.$': '$.Build' }, Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.testRun', Next: 'Pre-Traffic Hook 1' }] });
    expect(build.Parameters.EnvironmentVariablesOverride).toEqual(expect.arrayContaining([
      { 'Name': 'ZDT_TEST_ROUTE_HEADER', 'Type': 'PLAINTEXT', 'Value': 'x-zdt-color' },
      { 'Name': 'ZDT_TEST_ROUTE_VALUE', 'Type': 'PLAINTEXT', 'Value.$': '$.colors.target' },
      { 'Name': 'ZDT_BASE_URL', 'Type': 'PLAINTEXT', 'Value': 'http://TOKEN' },
    ]));
    expect(states['Pre-Traffic Hook 1 Test Reports Written?'].Choices[0]).toEqual({ Variable: '$.testRun.build.ReportArns[0]', IsPresent: true, Next: 'Pre-Traffic Hook 1 Test Reports' });
    expect(states['Pre-Traffic Hook 1 Test Reports']).toMatchObject({ Resource: expect.stringMatching(/:states:::aws-sdk:codebuild:batchGetReports$/), Next: 'Pre-Traffic Hook 1', ResultPath: '$.testRun.reports' });
    expect(states['Pre-Traffic Hook 1'].Parameters['testRun.$']).toBe('$.testRun');
    // The build's hour counts in the lock's lifetime, beside the verdict hook's 2 minutes.
    expect(r.plan.hookSeconds).toBe(3600 + 120);
    expect(handlerConfigOf(template, 'test-report-gate')).toEqual({ name: 'Functional tests', reportGroupArn: 'TOKEN', minPassRatePercent: 95, minTestCases: 1 });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'codebuild:BatchGetReports', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^E2eReports'), 'Arn'] } })]) },
    });
  });

  describe('refuses at synth', () => {
    test('an HTTP gate without the routing\'s test route', () => {
      const f = network();
      expect(() => rollout(f, { preTrafficGates: [ValidationGate.http({ endpoints: ['/health'] })] }, { testRoute: { enabled: false } }))
        .toThrow(/Service\/Rollout\/PreTrafficGate1: HTTP check needs the routing's test route/);
    });

    test('endpoints that are empty or not paths', () => {
      expect(() => rollout(network(), { preTrafficGates: [ValidationGate.http({ endpoints: [] })] })).toThrow(/endpoints must list at least one path/);
      expect(() => rollout(network(), { preTrafficGates: [ValidationGate.http({ endpoints: ['health'] })] }))
        .toThrow(/endpoints must be paths starting with "\/" without spaces, got "health"/);
    });

    test('a method that is not safe', () => {
      expect(() => rollout(network(), { preTrafficGates: [ValidationGate.http({ endpoints: ['/'], method: 'POST' })] }))
        .toThrow(/method must be GET, HEAD or OPTIONS \(a gate must not change anything\), got "POST"/);
    });

    test('a gate that could run longer than the hook timeout', () => {
      const f = network();
      rollout(f, {
        hookTimeout: Duration.minutes(1),
        preTrafficGates: [ValidationGate.http({ endpoints: ['/a', '/b', '/c', '/d'], attempts: 3, requestTimeout: Duration.seconds(10) })],
      });
      expect(() => f.app.synth()).toThrow(/PreTrafficGate1\] HTTP check may run 151 s .* more than the rollout's hookTimeout \(1 minute\)/);
    });

    test.each([
      ['an HTTP', ValidationGate.http({ endpoints: ['/'], attempts: 1000 }), /attempts must be an integer from 1 to 10, got 1000/],
      ['a performance', ValidationGate.performanceBaseline({ endpoints: ['/'], samples: 1000 }), /samples must be an integer from 1 to 100, got 1000/],
      ['a database', ValidationGate.database({ secretName: 'db', timeout: Duration.hours(1) }), /timeout must be from 100 millis to 1 minute, got 1 hour/],
    ])('%s gate\'s prop out of range is named as such, not as the run time it would make', (_kind, gate, range) => {
      const f = network();
      rollout(f, { preTrafficGates: [gate] });
      let message = '';
      try { f.app.synth(); } catch (err) { message = (err as Error).message; }
      expect(message).toMatch(range);
      expect(message).not.toMatch(/may run/);
    });

    test('a database gate with neither or both secret and secretName', () => {
      expect(() => rollout(network(), { preTrafficGates: [ValidationGate.database({})] })).toThrow(/give exactly one of secret and secretName, got neither/);
    });

    test('range checks of the props at synth', () => {
      const f = network();
      rollout(f, { preTrafficGates: [ValidationGate.http({ endpoints: ['/'], attempts: 0, maxLatency: Duration.minutes(2) })] });
      expect(() => f.app.synth()).toThrow(/attempts must be an integer from 1 to 10, got 0[\s\S]*maxLatency must be from/);
    });

    test('an HTTPS listener without baseUrl', () => {
      const f = network();
      const { listener: _l, ...rest } = f;
      const https = f.loadBalancer.addListener('Https', { port: 443, protocol: elbv2.ApplicationProtocol.HTTP, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
      expect(() => rollout({ ...rest, listener: https }, { preTrafficGates: [ValidationGate.http({ endpoints: ['/'] })] }))
        .toThrow(/the listener is on port 443 \(HTTPS\).*set baseUrl/);
    });
  });
});
