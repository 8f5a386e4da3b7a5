/**
 * The notification plan: rules on the rollout's events route each event kind to its channels, and what each channel
 * receives is read by applying the synthesized rules (pattern + input transformer, as the rehearsal's EventBridge does)
 * to the events of rehearsed rollouts: a release, a failed validation gate, a rollback that fails.
 */
import { App, Duration, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EVENT_SOURCE, RolloutEvent } from '../../lambda/shared/contracts';
import { NotificationChannel, RolloutEventKind, RolloutNotifications } from '../../lib';
import { ProgressiveRollout } from '../../lib/rollout/progressive-rollout';
import { RolloutStrategy } from '../../lib/rollout/rollout-strategy';
import { FlagRolloutEvent } from '../../lambda/flag-rollout/flag-rollout-contract';
import { FeatureFlags } from '../../lib/flags/feature-flags';
import { FlagRolloutPlan } from '../../lib/flags/flag-rollout-plan';
import { GuardedFlagRollout } from '../../lib/flags/guarded-flag-rollout';
import { rehearseFlagRollout } from '../../rehearsal/flag-rehearsal';
import { matchesEventPattern } from '../../rehearsal/event-patterns';
import type { RecordedEvent } from '../../rehearsal/fakes';
import { rehearse } from '../../rehearsal/rehearse';
import { BusEvent, eventRulesOf, targetInput } from '../../rehearsal/simulation-events';
import { Fixture, network, rollout } from '../constructs/fixtures';

const SLACK = { slackWorkspaceId: 'T0123ABCD', slackChannelId: 'C0123ABCD' };
const TEAMS = { teamId: '11111111-2222-3333-4444-555555555555', tenantId: '66666666-7777-8888-9999-000000000000', teamsChannelId: '19:abc@thread.tacv2' };

interface Planned {
  readonly f: Fixture;
  readonly rollout: ProgressiveRollout;
  readonly hook: string;
}

/** A rollout with one pre-traffic hook and the whole plan: team chat, stakeholder email, pager, status page. */
function planned(): Planned {
  const f = network();
  const smoke = new lambda.Function(f.stack, 'Smoke', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})') });
  const r = rollout(f, { strategy: RolloutStrategy.linear({ stepPercent: 50, bake: Duration.minutes(2) }), preTrafficHooks: [smoke] });
  const slack = NotificationChannel.slack(SLACK);
  const email = NotificationChannel.email({ addresses: ['releases@everjust.dev'] });
  const pager = NotificationChannel.webhook({
    endpoint: 'https://api.opsgenie.com/v2/alerts',
    authorization: events.Authorization.apiKey('Authorization', SecretValue.secretsManager('pager/opsgenie')),
    channelId: 'Pager',
  });
  const statusPage = NotificationChannel.statusPage({
    pageId: 'kctbh9vrtdwd', componentId: 'x8hvn0d1k2bw',
    apiKey: secretsmanager.Secret.fromSecretNameV2(f.stack, 'StatuspageKey', 'statuspage/api-key'),
  });
  new RolloutNotifications(f.stack, 'Notifications', {
    rollout: r,
    routes: [
      { events: [RolloutEventKind.STARTED, RolloutEventKind.STEP_COMPLETED, RolloutEventKind.VALIDATION_FAILED, RolloutEventKind.ROLLBACK_TRIGGERED, RolloutEventKind.ROLLBACK_FAILED, RolloutEventKind.COMPLETED], channels: [slack] },
      { events: [RolloutEventKind.STARTED, RolloutEventKind.ROLLBACK_TRIGGERED, RolloutEventKind.COMPLETED], channels: [email] },
      { events: [RolloutEventKind.ROLLBACK_FAILED], channels: [pager, slack, email] },
      { events: [RolloutEventKind.STARTED, RolloutEventKind.STEP_COMPLETED, RolloutEventKind.ROLLED_BACK, RolloutEventKind.ROLLBACK_FAILED, RolloutEventKind.COMPLETED], channels: [statusPage] },
    ],
  });
  return { f, rollout: r, hook: f.stack.getLogicalId(smoke.node.defaultChild as lambda.CfnFunction) };
}

/** What each channel received: the rules of the stack applied to the bus events (pattern, then input transformer). */
function deliveries(stack: Stack, recorded: readonly RecordedEvent[]): Array<{ rule: string; target: string; input: any }> {
  const template = Template.fromStack(stack).toJSON();
  const rules = eventRulesOf(stack.stackName, template, { accountId: '123456789012', region: 'us-east-1' });
  const out: Array<{ rule: string; target: string; input: any }> = [];
  for (const e of recorded) {
    const event: BusEvent = {
      'version': '0', 'id': e.eventId, 'detail-type': e.detailType, 'source': e.source, 'account': '123456789012',
      'time': new Date(e.time).toISOString().replace(/\.\d{3}Z$/, 'Z'), 'region': 'us-east-1', 'resources': e.resources, 'detail': e.detail,
    };
    for (const rule of rules.filter((r) => r.pattern && matchesEventPattern(r.pattern, event))) {
      for (const t of rule.targets) out.push({ rule: rule.logicalId, target: t.Id, input: targetInput(rule, t, event) });
    }
  }
  return out;
}

/**
 * An email's text: EventBridge sends each line of a multi-line text template as a JSON string (RuleTargetInput
 * fromMultilineText), which the reader sees in quotes; the words are those of the lines.
 */
function emailText(input: string): string {
  return input.split('\n').map((line) => JSON.parse(line) as string).join('\n');
}

async function rehearsed(p: Planned, hook: () => unknown, scenario?: string): Promise<RecordedEvent[]> {
  let recorded: RecordedEvent[] = [];
  await rehearse(p.f.stack, {
    scenario,
    functions: { [p.hook]: hook as never },
    inspect: (world) => { recorded = world.aws.events.events().filter((e) => e.source === EVENT_SOURCE); },
  });
  return recorded;
}

describe('RolloutNotifications', () => {
  test('one rule per event kind on the rollout\'s events, each with its channels (at most 5 targets a rule)', () => {
    const p = planned();
    const template = Template.fromStack(p.f.stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': [EVENT_SOURCE], 'detail-type': [RolloutEvent.ROLLBACK_TRIGGERED], 'detail': { service: ['web'], trigger: { kind: ['hook-failed'] } } },
    });
    const failedRules = template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { 'detail-type': [RolloutEvent.ROLLBACK_FAILED] } } });
    expect(Object.values<any>(failedRules).map((r) => r.Properties.Targets.length)).toEqual([4]);
    // Slack through AWS Chatbot, notifications only: a role without permissions and a deny-all guardrail.
    template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      SlackWorkspaceId: 'T0123ABCD', SlackChannelId: 'C0123ABCD', ConfigurationName: 'web-rollouts-Slack',
      SnsTopicArns: [{ Ref: Match.stringLikeRegexp('^NotificationsSlackTopic') }],
      GuardrailPolicies: [{ Ref: Match.stringLikeRegexp('^NotificationsSlackGuardrail') }],
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', { PolicyDocument: { Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] } });
    // Topics encrypted with their own key, which EventBridge of this account may use.
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue(), DisplayName: 'Rollout emails of web' });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({
        Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: { StringEquals: { 'aws:SourceAccount': Match.anyValue() } },
      })]) },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'releases@everjust.dev' });
    // EventBridge may publish to a topic for the plan's own rules only.
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotificationsRollbackFailed'), 'Arn'] } } },
      })]) },
    });
    const unconditioned = Object.values<any>(template.findResources('AWS::SNS::TopicPolicy')).flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => st.Principal?.Service === 'events.amazonaws.com' && !st.Condition);
    expect(unconditioned).toEqual([]);
    // The pager's and the status page's credentials are read from Secrets Manager by the connections.
    template.hasResourceProperties('AWS::Events::Connection', {
      AuthorizationType: 'API_KEY',
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'Authorization', ApiKeyValue: '{{resolve:secretsmanager:pager/opsgenie:SecretString:::}}' } },
    });
    template.hasResourceProperties('AWS::Events::Connection', {
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'Authorization', ApiKeyValue: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('^OAuth \\{\\{resolve:secretsmanager:')])] } } },
    });
    template.hasResourceProperties('AWS::Events::ApiDestination', { HttpMethod: 'PATCH', InvocationEndpoint: 'https://api.statuspage.io/v1/pages/kctbh9vrtdwd/components/x8hvn0d1k2bw' });
    template.hasResourceProperties('AWS::Events::ApiDestination', { HttpMethod: 'POST', InvocationEndpoint: 'https://api.opsgenie.com/v2/alerts' });
  });

  test('a release: the status page opens a maintenance window, updates it at each step and closes it; chat and email say what happens next', async () => {
    const p = planned();
    const sent = deliveries(p.f.stack, await rehearsed(p, () => ({ status: 'Succeeded' })));

    const statusPage = sent.filter((d) => d.target.includes('StatusPage') || JSON.stringify(d.input).includes('"component"')).map((d) => d.input.component);
    expect(statusPage.map((c) => c.status)).toEqual(['under_maintenance', 'under_maintenance', 'under_maintenance', 'operational']);
    expect(statusPage[1].description).toBe('web: step 1 done, green has 50%. The next step shifts more traffic after its own bake; the rollout completes at 100%.');
    expect(statusPage[3].description).toMatch(/^web: green is live\. blue is idle/);
    const chat = sent.filter((d) => d.input?.source === 'custom').map((d) => d.input);
    expect(chat.map((c) => c.content.title)).toEqual(['Rollout of web started', 'web: step 1 done, green has 50%', 'web: step 2 done, green has 100%', 'web: green is live']);
    expect(chat[0]).toMatchObject({ version: '1.0', content: { textType: 'client-markdown', nextSteps: [expect.stringMatching(/^Validation gates run against green before any traffic moves/)] } });
    expect(chat[0].metadata.threadId).toMatch(/^arn:aws:states:us-east-1:\d+:execution:/);
    const emails = sent.filter((d) => typeof d.input === 'string').map((d) => emailText(d.input));
    expect(emails).toHaveLength(2);
    expect(emails[0]).toContain('Rollout of web started\n\nWhat happened: web is releasing the green color; blue keeps production traffic until the first step.');
  });

  test('a failed validation gate: chat says which gate and why, email says traffic goes back, nobody is paged', async () => {
    const p = planned();
    const sent = deliveries(p.f.stack, await rehearsed(p, () => ({ status: 'Failed', reason: 'HTTP check failed: GET /api/projects on green: status 503 (limit: below 400)' })));

    const chat = sent.filter((d) => d.input?.source === 'custom').map((d) => d.input.content);
    // One incident, one message: chat is routed to both VALIDATION_FAILED and ROLLBACK_TRIGGERED and gets the first,
    // which says more; email, routed to ROLLBACK_TRIGGERED only, gets that one.
    expect(chat.map((c) => c.title)).toEqual(['Rollout of web started', ':warning: web: validation failed on green, rolling back']);
    expect(chat[1].description).toBe('A validation gate of the rollout of web failed: pre-traffic hook 1 did not succeed: HTTP check failed: GET /api/projects on green: status 503 (limit: below 400)');
    expect(chat[1].nextSteps[0]).toMatch(/^Traffic goes back to blue \(a gate before traffic fails before any traffic moved\): the "Rolled Back" notice confirms it/);
    const email = sent.filter((d) => typeof d.input === 'string').map((d) => emailText(d.input));
    expect(email[1]).toMatch(/^web: rollout of green rolls back \(hook-failed\)\n\nWhat happened: .*status 503.*\n\nWhat happens next: Traffic goes back to blue: the "Rolled Back" notice confirms it/s);
    expect(sent.some((d) => d.input?.priority)).toBe(false);
    const statusPage = sent.filter((d) => d.input?.component).map((d) => d.input.component.status);
    expect(statusPage).toEqual(['under_maintenance', 'operational']);
  });

  test('a rollback that fails pages on-call with a P1 alert deduplicated by execution, and the status page shows a partial outage', async () => {
    const p = planned();
    const sent = deliveries(p.f.stack, await rehearsed(p, () => ({ status: 'Succeeded' }), 'rollback-fails'));

    const pages = sent.filter((d) => d.input?.priority);
    expect(pages).toHaveLength(1);
    expect(pages[0].input).toMatchObject({
      message: 'URGENT web: rollback to blue FAILED, traffic may still be split',
      priority: 'P1',
      source: 'cdk-zero-downtime',
      alias: expect.stringMatching(/:execution:/),
      details: { service: 'web', targetColor: 'green', stableColor: 'blue', event: 'ROLLBACK_FAILED' },
    });
    expect(pages[0].input.description).toMatch(/restoring blue failed: .*\n\nWhat happens next: Act now: check the listener's production rule/s);
    expect(sent.filter((d) => d.input?.component).map((d) => d.input.component.status).pop()).toBe('partial_outage');
    // A rollback that no gate caused still reaches chat, which also gets VALIDATION_FAILED, as ROLLBACK_TRIGGERED.
    const chat = sent.filter((d) => d.input?.source === 'custom').map((d) => d.input.content.title);
    expect(chat.filter((t) => / rolls back \((?!hook-failed)/.test(t))).toHaveLength(1);
  });

  test('adds no unacknowledged cdk-nag finding', () => {
    const p = planned();
    Validations.of(p.f.vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'test fixture' });
    Validations.of(p.f.loadBalancer).acknowledge({ id: 'AwsSolutions-ELB2', reason: 'test fixture' });
    Validations.of(p.f.loadBalancer).acknowledge({ id: 'AwsSolutions-EC23', reason: 'test fixture' });
    const smoke = p.f.stack.node.findChild('Smoke');
    Validations.of(smoke).acknowledge({ id: 'AwsSolutions-L1', reason: 'test fixture' });
    Validations.of(smoke).acknowledge({ id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: 'test fixture' });
    Validations.of(p.f.app).addPlugins(new AwsSolutionsChecks(p.f.app));
    expect(() => p.f.app.synth()).not.toThrow();
  });

  test('routes a guarded flag rollout\'s events like a traffic rollout\'s: its phases, its rollback and its flag, in the same channels', async () => {
    const app = new App({ builtinCloudFormationValidation: false } as never);
    const stack = new Stack(app, 'Shop');
    const flags = new FeatureFlags(stack, 'Flags', { flags: { version: 1, flags: { 'new-checkout': { enabled: true, default: false } } } as never });
    const flagRollout = new GuardedFlagRollout(stack, 'NewCheckout', {
      flags, flagKey: 'new-checkout', serviceName: 'shop',
      plan: FlagRolloutPlan.percentage([{ percent: 5, duration: Duration.hours(2) }, { percent: 100 }]),
    });
    const email = NotificationChannel.email({ addresses: ['releases@everjust.dev'] });
    const statusPage = NotificationChannel.statusPage({
      pageId: 'kctbh9vrtdwd', componentId: 'x8hvn0d1k2bw', apiKey: secretsmanager.Secret.fromSecretNameV2(stack, 'StatuspageKey', 'statuspage/api-key'),
    });
    new RolloutNotifications(stack, 'Notifications', {
      flagRollout,
      routes: [{ events: Object.values(RolloutEventKind), channels: [email] }, { events: [RolloutEventKind.STARTED, RolloutEventKind.ROLLED_BACK], channels: [statusPage] }],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': [EVENT_SOURCE], 'detail-type': [FlagRolloutEvent.PHASE_COMPLETED], 'detail': { service: ['shop'], flag: ['new-checkout'] } },
    });
    // Every kind routed: PROMOTED_FULL (zdt promote --full, a traffic rollout's) adds no rule, a flag rollout sends none.
    const detailTypes = Object.values<any>(Template.fromStack(stack).findResources('AWS::Events::Rule')).map((r) => r.Properties.EventPattern?.['detail-type']?.[0]);
    expect(detailTypes).not.toContain(RolloutEvent.PROMOTED_FULL);
    expect(detailTypes.length).toBeGreaterThan(0);
    let recorded: RecordedEvent[] = [];
    const result = await rehearseFlagRollout(app, {
      scenario: { name: 'regression', description: 'the treatment fails', treatment: { regressions: [{ errorRatePercent: 5 }] }, expect: { outcome: 'ROLLED_BACK' } },
      inspect: (aws) => { recorded = aws.events.events().filter((e) => e.source === EVENT_SOURCE); },
    });
    expect(result.outcome).toBe('ROLLED_BACK');
    const sent = deliveries(stack, recorded);
    const emails = sent.filter((d) => typeof d.input === 'string').map((d) => emailText(d.input));
    expect(emails[0]).toMatch(/^Rollout of flag new-checkout of shop started\n\nWhat happened: shop starts serving on of flag new-checkout phase by phase; the other users keep off/);
    expect(emails.some((e) => /^shop: rollout of flag new-checkout rolls back \(judge-fail\)/.test(e))).toBe(true);
    expect(emails[emails.length - 1]).toMatch(/^shop: flag new-checkout restored\n\nWhat happened: Flag new-checkout of shop has its definition from before the rollout again/);
    // The status page opens its window when the flag rollout starts and closes it once the flag is restored.
    expect(sent.filter((d) => d.input?.component).map((d) => d.input.component.status)).toEqual(['under_maintenance', 'operational']);
    // A traffic rollout's rules of the same service do not match a flag rollout's events, nor the other way round.
    expect(deliveries(planned().f.stack, recorded)).toEqual([]);
  });

  test('an operator\'s zdt promote --full reaches the channels routing PROMOTED_FULL: who skipped what, and that 100% is still judged', async () => {
    const f = network();
    const r = rollout(f, { strategy: RolloutStrategy.linear({ stepPercent: 25, bake: Duration.minutes(2) }) });
    new RolloutNotifications(f.stack, 'Notifications', { rollout: r, routes: [{ events: [RolloutEventKind.PROMOTED_FULL], channels: [NotificationChannel.slack(SLACK)] }] });
    let recorded: RecordedEvent[] = [];
    await rehearse(f.stack, { scenario: 'promote-full', inspect: (world) => { recorded = world.aws.events.events().filter((e) => e.source === EVENT_SOURCE); } });
    const chat = deliveries(f.stack, recorded).map((d) => d.input);
    expect(chat.map((c) => c.content.title)).toEqual([':warning: web: rollout of green promoted to full by an operator at step 1']);
    expect(chat[0].content.description).toContain('An operator ran `zdt promote --full` on the rollout of web at step 1 (green had 25%): the remaining steps are skipped.');
    expect(chat[0].content.nextSteps).toEqual(['green gets 100% of production traffic next; that step still bakes and is judged, and a failed judgement rolls back to blue.']);
  });

  describe('refuses at synth', () => {
    test('neither or both of rollout and flagRollout', () => {
      const f = network();
      expect(() => new RolloutNotifications(f.stack, 'N', { routes: [{ events: [RolloutEventKind.STARTED], channels: [NotificationChannel.slack(SLACK)] }] }))
        .toThrow('Service/N: exactly one of rollout (a ProgressiveRollout) and flagRollout (a GuardedFlagRollout) must be given, got neither');
    });

    test('a plan without routes, a route without events or channels, two channels with one id', () => {
      const r = () => { const f = network(); return { f, r: rollout(f) }; };
      const a = r();
      expect(() => new RolloutNotifications(a.f.stack, 'N', { rollout: a.r, routes: [] })).toThrow(/Service\/N: routes must hold at least one route/);
      const b = r();
      expect(() => new RolloutNotifications(b.f.stack, 'N', { rollout: b.r, routes: [{ events: [], channels: [NotificationChannel.slack(SLACK)] }] })).toThrow(/routes\[0\]\.events must list at least one event kind/);
      const c = r();
      expect(() => new RolloutNotifications(c.f.stack, 'N', { rollout: c.r, routes: [{ events: [RolloutEventKind.STARTED], channels: [NotificationChannel.slack(SLACK), NotificationChannel.microsoftTeams({ ...TEAMS, channelId: 'Slack' })] }] }))
        .toThrow(/two different channels have the id "Slack"/);
    });

    test('an email channel without valid addresses, a webhook that is not https', () => {
      const a = network();
      expect(() => new RolloutNotifications(a.stack, 'N', { rollout: rollout(a), routes: [{ events: [RolloutEventKind.STARTED], channels: [NotificationChannel.email({ addresses: ['ops'] })] }] }))
        .toThrow(/Email: addresses must be email addresses, got "ops"/);
      const b = network();
      expect(() => new RolloutNotifications(b.stack, 'N', { rollout: rollout(b), routes: [{ events: [RolloutEventKind.ROLLBACK_FAILED], channels: [NotificationChannel.webhook({ endpoint: 'http://pager.internal', authorization: events.Authorization.apiKey('x', SecretValue.secretsManager('k')) })] }] }))
        .toThrow(/Webhook: endpoint must be an https:\/\/ URL .*got "http:\/\/pager.internal"/);
    });
  });
});
