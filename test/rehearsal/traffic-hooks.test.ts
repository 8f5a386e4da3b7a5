/**
 * Traffic hooks (ProgressiveRollout preTrafficHooks / postTrafficHooks), executed: the synthesized state machine of a
 * small stack runs in the rehearsal with the library's real handlers, and the hooks bound in-process by logical id.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { clock } from '../../lambda/shared/clock';
import { TrafficHookEvent, TrafficHookResult } from '../../lambda/shared/contracts';
import { RolloutStrategy } from '../../lib/rollout/rollout-strategy';
import { rehearse } from '../../rehearsal/rehearse';
import { network, rollout } from '../constructs/fixtures';

function hookFunction(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})') });
}

/** A stack with one pre- and one post-traffic hook, and the logical ids of their functions. */
function stackWithHooks() {
  const f = network();
  const pre = hookFunction(f.stack, 'SmokeTest');
  const post = hookFunction(f.stack, 'CheckoutProbe');
  rollout(f, { strategy: RolloutStrategy.linear({ stepPercent: 50, bake: Duration.minutes(2) }), preTrafficHooks: [pre], postTrafficHooks: [post] });
  const id = (fn: lambda.Function) => f.stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  return { stack: f.stack, pre: id(pre), post: id(post) };
}

describe('traffic hooks in a rollout', () => {
  test('both hooks pass: they get the colors and the test route to the new color, and the release completes', async () => {
    const { stack, pre, post } = stackWithHooks();
    const calls: TrafficHookEvent[] = [];
    const hook = (event: unknown): TrafficHookResult => {
      calls.push(event as TrafficHookEvent);
      return { status: 'Succeeded' };
    };
    const result = await rehearse(stack, { functions: { [pre]: hook, [post]: hook } });

    expect(result.summary.outcome).toBe('RELEASED');
    expect(calls.map((c) => c.hook)).toEqual(['preTraffic', 'postTraffic']);
    expect(result.summary.finalWeights).toEqual({ blue: 0, green: 100 });
    expect(calls[0]).toMatchObject({ service: 'web', targetColor: 'green', stableColor: 'blue', testRoute: { header: 'x-zdt-color', value: 'green' } });
  });

  test('a pre-traffic hook that fails rolls the rollout back before any production traffic moved', async () => {
    const { stack, pre, post } = stackWithHooks();
    let postCalled = false;
    const result = await rehearse(stack, {
      functions: {
        [pre]: () => { throw Object.assign(new Error('smoke test: GET /health on green answered 503'), { name: 'SmokeTestFailed' }); },
        [post]: () => { postCalled = true; return { status: 'Succeeded' }; },
      },
    });

    expect(result.summary.outcome).toBe('ROLLED_BACK');
    expect(result.summary.cause).toMatch(/hook-failed.*pre-traffic hook 1 failed \(SmokeTestFailed\): .*GET \/health on green answered 503/);
    expect(result.summary.failedRequests).toBe(0);
    expect(result.summary.finalWeights).toEqual({ blue: 100, green: 0 });
    // No step ever shifted: green never had a share.
    expect(result.series.length).toBeGreaterThan(0);
    expect(result.series.every((p) => p.weights.green === 0)).toBe(true);
    expect(postCalled).toBe(false);
  });

  test('a post-traffic hook that reports failure rolls traffic back from the new color to the stable one', async () => {
    const { stack, pre, post } = stackWithHooks();
    const result = await rehearse(stack, {
      functions: {
        [pre]: () => ({ status: 'Succeeded' }),
        [post]: () => ({ status: 'Failed', reason: 'checkout probe: 3 of 20 orders not confirmed' }),
      },
    });

    expect(result.summary.outcome).toBe('ROLLED_BACK');
    expect(result.summary.cause).toMatch(/post-traffic hook 1 did not succeed: .*3 of 20 orders not confirmed/);
    expect(result.summary.finalWeights).toEqual({ blue: 100, green: 0 });
    expect(result.series.some((p) => p.weights.green === 100)).toBe(true);
  });

  test('a hook that returns nothing has not succeeded: the rollout rolls back, saying what it returned', async () => {
    const { stack, pre, post } = stackWithHooks();
    const result = await rehearse(stack, { functions: { [pre]: () => undefined, [post]: () => ({ status: 'Succeeded' }) } });

    expect(result.summary.outcome).toBe('ROLLED_BACK');
    expect(result.summary.cause).toMatch(/pre-traffic hook 1 did not succeed, it returned null \(expected \{"status":"Succeeded"\}\)/);
    expect(result.summary.finalWeights).toEqual({ blue: 100, green: 0 });
  });

  test('an abort requested while a pre-traffic hook runs rolls back when the hooks end, before the first shift', async () => {
    const { stack, pre, post } = stackWithHooks();
    const result = await rehearse(stack, {
      functions: {
        // The smoke test takes two virtual minutes; the operator aborts one minute in.
        [pre]: async () => { await clock().sleep(120_000); return { status: 'Succeeded' }; },
        [post]: () => ({ status: 'Succeeded' }),
      },
      operator: [{ kind: 'abort', atSeconds: 60, reason: 'wrong build' }],
    });

    expect(result.summary.outcome).toBe('ROLLED_BACK');
    expect(result.summary.cause).toMatch(/aborted.*wrong build/);
    expect(result.series.every((p) => p.weights.green === 0)).toBe(true);
    // The abort waited for the running hook: the rollback starts once its two minutes are over, not at the abort.
    const rollback = result.timeline.find((e) => e.kind === 'state' && e.state === 'Rollback');
    expect(rollback?.atMs).toBeGreaterThanOrEqual(120_000);
  });
});
