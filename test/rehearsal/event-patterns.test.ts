import { InvalidEventPatternError, matchesEventPattern } from '../../rehearsal/event-patterns';
import { EventBridgeRecorder } from '../../rehearsal/fakes';
import { eventRulesOf, jsonPath, SimulatedEventBridge, targetInput, type BusEvent } from '../../rehearsal/simulation-events';
import type { CfnTemplate } from '../../rehearsal/template';
import { VirtualClock } from '../../rehearsal/virtual-clock';

const statusChange: BusEvent = {
  'version': '0',
  'id': 'e1',
  'detail-type': 'Step Functions Execution Status Change',
  'source': 'aws.states',
  'account': '123456789012',
  'time': '2026-01-05T09:07:00Z',
  'region': 'us-east-1',
  'resources': ['arn:aws:states:us-east-1:123456789012:execution:Rollout:run-1'],
  'detail': { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Rollout:run-1', stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Rollout', status: 'ABORTED', error: null, attempts: 3, tags: ['a', 'b'] },
};

describe('EventBridge event patterns', () => {
  test('matches exact values, with arrays as OR and nested detail fields', () => {
    expect(matchesEventPattern({ 'source': ['aws.states'], 'detail-type': ['Step Functions Execution Status Change'], 'detail': { status: ['ABORTED', 'TIMED_OUT', 'FAILED'] } }, statusChange)).toBe(true);
    expect(matchesEventPattern({ source: ['aws.states'], detail: { status: ['SUCCEEDED'] } }, statusChange)).toBe(false);
    expect(matchesEventPattern({ source: ['aws.ec2'] }, statusChange)).toBe(false);
    expect(matchesEventPattern({ detail: { missing: ['x'] } }, statusChange)).toBe(false);
  });

  test('matches numbers numerically, null, and any element of an array value', () => {
    expect(matchesEventPattern({ detail: { attempts: [3.0] } }, statusChange)).toBe(true);
    expect(matchesEventPattern({ detail: { error: [null] } }, statusChange)).toBe(true);
    expect(matchesEventPattern({ detail: { tags: ['b'] } }, statusChange)).toBe(true);
    expect(matchesEventPattern({ detail: { tags: ['c'] } }, statusChange)).toBe(false);
  });

  test('matches prefix, suffix and equals-ignore-case', () => {
    expect(matchesEventPattern({ detail: { executionArn: [{ prefix: 'arn:aws:states:us-east-1:' }] } }, statusChange)).toBe(true);
    expect(matchesEventPattern({ detail: { executionArn: [{ prefix: 'arn:aws:lambda:' }] } }, statusChange)).toBe(false);
    expect(matchesEventPattern({ detail: { executionArn: [{ suffix: ':run-1' }] } }, statusChange)).toBe(true);
    expect(matchesEventPattern({ detail: { status: [{ 'equals-ignore-case': 'aborted' }] } }, statusChange)).toBe(true);
  });

  test('matches anything-but a value, a list or a prefix, and never a missing field', () => {
    expect(matchesEventPattern({ detail: { status: [{ 'anything-but': 'SUCCEEDED' }] } }, statusChange)).toBe(true);
    expect(matchesEventPattern({ detail: { status: [{ 'anything-but': ['ABORTED', 'FAILED'] }] } }, statusChange)).toBe(false);
    expect(matchesEventPattern({ detail: { status: [{ 'anything-but': { prefix: 'ABO' } }] } }, statusChange)).toBe(false);
    expect(matchesEventPattern({ detail: { missing: [{ 'anything-but': 'x' }] } }, statusChange)).toBe(false);
  });

  test('matches exists on leaves only', () => {
    expect(matchesEventPattern({ detail: { status: [{ exists: true }] } }, statusChange)).toBe(true);
    expect(matchesEventPattern({ detail: { missing: [{ exists: false }] } }, statusChange)).toBe(true);
    expect(matchesEventPattern({ detail: { missing: [{ exists: true }] } }, statusChange)).toBe(false);
    expect(matchesEventPattern({ detail: [{ exists: true }] }, statusChange)).toBe(false);
  });

  test('matches numeric ranges, wildcards and $or', () => {
    expect(matchesEventPattern({ detail: { attempts: [{ numeric: ['>', 2, '<=', 3] }] } }, statusChange)).toBe(true);
    expect(matchesEventPattern({ detail: { attempts: [{ numeric: ['>', 3] }] } }, statusChange)).toBe(false);
    expect(matchesEventPattern({ detail: { executionArn: [{ wildcard: '*:execution:Rollout:*' }] } }, statusChange)).toBe(true);
    expect(matchesEventPattern({ $or: [{ source: ['aws.ec2'] }, { detail: { status: ['ABORTED'] } }] }, statusChange)).toBe(true);
  });

  test('accepts a pattern as a JSON string and refuses invalid patterns', () => {
    expect(matchesEventPattern('{"source":["aws.states"]}', statusChange)).toBe(true);
    expect(() => matchesEventPattern({ source: 'aws.states' }, statusChange)).toThrow(InvalidEventPatternError);
    expect(() => matchesEventPattern({ detail: { status: [{ bogus: 1 }] } }, statusChange)).toThrow(/expected one content filter/);
    expect(() => matchesEventPattern('{not json', statusChange)).toThrow(/not valid JSON/);
  });
});

describe('EventBridge rule target input', () => {
  const rule = { name: 'ExecutionEnded', arn: 'arn:aws:events:us-east-1:123456789012:rule/ExecutionEnded' };

  test('is the whole event, or the rule\'s Input, or the InputPath of the event', () => {
    expect(targetInput(rule, {}, statusChange)).toEqual(statusChange);
    expect(targetInput(rule, { Input: '{"fixed":true}' }, statusChange)).toEqual({ fixed: true });
    expect(targetInput(rule, { InputPath: '$.detail.status' }, statusChange)).toBe('ABORTED');
    expect(jsonPath(statusChange, '$.detail.tags[1]')).toBe('b');
  });

  test('is the InputTransformer template filled in, strings inside quotes and JSON elsewhere', () => {
    const input = targetInput(rule, {
      InputTransformer: {
        InputPathsMap: { status: '$.detail.status', attempts: '$.detail.attempts', tags: '$.detail.tags' },
        InputTemplate: '{"text": "ended <status> (<aws.events.rule-name>)", "attempts": <attempts>, "tags": <tags>}',
      },
    }, statusChange);
    expect(input).toEqual({ text: 'ended ABORTED (ExecutionEnded)', attempts: 3, tags: ['a', 'b'] });
  });
});

describe('SimulatedEventBridge', () => {
  const template: CfnTemplate = {
    Resources: {
      Ended: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Name: 'RolloutEnded',
          EventBusName: 'rollouts',
          EventPattern: { 'source': ['cdk-zero-downtime'], 'detail-type': ['Rollout Completed'] },
          Targets: [{ Id: 'Guard', Arn: 'arn:aws:lambda:us-east-1:123456789012:function:guard-fn', InputPath: '$.detail' }],
        },
      },
    },
  };

  test('names its rules in the default rehearsal environment when none is given', () => {
    expect(eventRulesOf('Shop', template).map((r) => [r.arn, r.eventBusName])).toEqual([
      ['arn:aws:events:us-east-1:123456789012:rule/rollouts/RolloutEnded', 'rollouts'],
    ]);
  });

  test('delivers the entries a PutEvents accepted to the matching rules\' Lambda targets, and only those', async () => {
    const clock = new VirtualClock();
    const received: unknown[] = [];
    const bus = new SimulatedEventBridge({
      clock,
      region: 'us-east-1',
      accountId: '123456789012',
      rules: eventRulesOf('Shop', template),
      lambda: (_stack, functionName) => (functionName === 'guard-fn' ? { handler: async (input) => { received.push(input); return {}; } } : undefined),
    });
    const events = new EventBridgeRecorder(clock);
    events.onDeliver((_params, _result, accepted) => bus.accepted(accepted));

    const result = await events.putEvents({ Entries: [
      { Source: 'cdk-zero-downtime', DetailType: 'Rollout Completed', Detail: '{"service":"shop"}', EventBusName: 'arn:aws:events:us-east-1:123456789012:event-bus/rollouts' },
      { Source: 'cdk-zero-downtime', DetailType: 'Rollout Completed', Detail: '{not json', EventBusName: 'rollouts' },
      { Source: 'cdk-zero-downtime', DetailType: 'Rollout Completed', Detail: { service: 'elsewhere' } },
    ] });
    await bus.drain();

    expect(result.FailedEntryCount).toBe(1);
    expect(received).toEqual([{ service: 'shop' }]);
    expect(bus.invocations.map((i) => [i.functionName, i.event.id])).toEqual([['guard-fn', result.Entries[0].EventId]]);
  });
});
