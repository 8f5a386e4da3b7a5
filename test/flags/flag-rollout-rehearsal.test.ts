import { App, Duration, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import { FlagsDocument } from '../../lambda/flags';
import { FlagRolloutEvent } from '../../lambda/flag-rollout/flag-rollout-contract';
import { ErrorName } from '../../lambda/shared/contracts';
import { FeatureFlags } from '../../lib/flags/feature-flags';
import { FlagRolloutPlan } from '../../lib/flags/flag-rollout-plan';
import { GuardedFlagRollout } from '../../lib/flags/guarded-flag-rollout';
import { rehearseFlagRollout } from '../../rehearsal/flag-rehearsal';

/** One stack: the flags, and a guarded rollout of the boolean flag `new-checkout` with the seed's default plan. */
function flagApp(plan?: FlagRolloutPlan): App {
  const app = new App({ builtinCloudFormationValidation: false } as never);
  const stack = new Stack(app, 'Shop');
  const doc: FlagsDocument = {
    version: 1,
    flags: {
      'new-checkout': { enabled: true, default: false, rules: [{ name: 'staff', segments: ['internal'], serve: true }] },
      'other': { enabled: true, default: true },
    },
  };
  const flags = new FeatureFlags(stack, 'Flags', { flags: doc as never });
  new GuardedFlagRollout(stack, 'NewCheckout', { flags, flagKey: 'new-checkout', serviceName: 'shop', plan });
  return app;
}

describe('guarded flag rollout rehearsals', () => {
  const app = flagApp();

  test('flag-rollout-healthy: every phase of the default plan passes over 12 virtual days and the flag ends at 100%', async () => {
    const result = await rehearseFlagRollout(app, { scenario: 'flag-rollout-healthy' });
    expect(result.outcome).toBe('COMPLETED');
    expect(result.phases.map((p) => p.name)).toEqual(['preparation', 'canary', 'early adopters', 'half', 'everyone']);
    expect(result.finalRule).toEqual({ percent: 100, segments: undefined });
    // 2 + 3 + 7 days of judged phases, plus each phase's propagation and metric delay.
    expect(result.durationMs).toBeGreaterThanOrEqual(12 * 86_400_000);
    expect(result.events[0]).toBe(FlagRolloutEvent.STARTED);
    expect(result.events[result.events.length - 1]).toBe(FlagRolloutEvent.COMPLETED);
    expect(result.deployments).toBe(5);
    expect(result.lockOwnerAfter).toBeUndefined();
  });

  test('flag-rollout-regression: the treatment\'s extra errors fail the canary and the flag is rolled back to its previous definition', async () => {
    const result = await rehearseFlagRollout(app, { scenario: 'flag-rollout-regression' });
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.trigger).toBe('judge-fail');
    expect(result.phases.map((p) => p.name)).toEqual(['preparation']);
    // Back to the flag as it was: its own rule only, no rollout rule.
    expect(result.finalRule).toBeUndefined();
    expect(result.events).toEqual(expect.arrayContaining([FlagRolloutEvent.ROLLBACK_TRIGGERED, FlagRolloutEvent.ROLLED_BACK]));
    // Caught within the canary's first day, long before its 2 days end.
    expect(result.durationMs).toBeLessThan(86_400_000);
    expect(result.cause).toMatch(/new-checkout rolled back .*judge-fail.*error rate is higher/);
    // The rollback path releases the flag's lock too.
    expect(result.lockOwnerAfter).toBeUndefined();
  });

  test('flag-rollout-aborted: zdt abort during the canary rolls the flag back at its next judgement and releases the lock', async () => {
    const result = await rehearseFlagRollout(app, { scenario: 'flag-rollout-aborted' });
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.trigger).toBe('aborted');
    expect(result.cause).toMatch(/\(aborted\): aborted by the operator \(zdt abort\)/);
    expect(result.phases.map((p) => p.name)).toEqual(['preparation']);
    expect(result.finalRule).toBeUndefined();
    expect(result.lockOwnerAfter).toBeUndefined();
  });

  test('zdt abort during a held, unjudged phase (a final hold) rolls the flag back within a judge interval, not at the end of the hold', async () => {
    const held = flagApp(FlagRolloutPlan.segments({ phases: [{ segment: 'internal' }, { segment: 'beta' }], finalHold: Duration.hours(6) }));
    const result = await rehearseFlagRollout(held, {
      scenario: { name: 'abort-while-held', description: 'zdt abort in the final hold', abortInPhase: 3, expect: { outcome: 'ROLLED_BACK', trigger: 'aborted' } },
    });
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.trigger).toBe('aborted');
    expect(result.phases.map((p) => p.name)).toEqual(['internal', 'beta']);
    // The abort lands as the hold begins: rolled back one judge interval later, hours before the 6-hour hold ends.
    expect(result.durationMs - result.phases[1].completedAtMs).toBeLessThan(3 * 3_600_000);
    expect(result.lockOwnerAfter).toBeUndefined();
  });

  test('flag-rollout-locked: a second rollout of a flag whose lock another execution holds is refused, naming that execution, and touches nothing', async () => {
    const result = await rehearseFlagRollout(app, { scenario: 'flag-rollout-locked' });
    expect(result.outcome).toBe('REFUSED');
    expect(result.error).toBe(ErrorName.ROLLOUT_IN_PROGRESS);
    expect(result.cause).toMatch(/Flag new-checkout \(AppConfig application \w+, configuration profile \w+\) already has a rollout in progress: execution arn:aws:states:us-east-1:111111111111:execution:OtherFlagRollout:first holds its lock/);
    expect(result.deployments).toBe(0);
    expect(result.events).toEqual([]);
    // The first rollout keeps its lock.
    expect(result.lockOwnerAfter).toBe('arn:aws:states:us-east-1:111111111111:execution:OtherFlagRollout:first');
  });

  test('a phase document the profile\'s validators refuse ends the rollout with a validation-failed rollback and the flag untouched', async () => {
    // An organisation's stricter JSON Schema (draft-04, as AppConfig takes it): new-checkout may have one rule only,
    // which its own 'staff' rule is; the rollout's rule would be a second.
    const strict = flagApp();
    const flags = strict.node.findAll().find((c) => c instanceof FeatureFlags) as FeatureFlags;
    const profile = flags.node.findAll().find((c) => c instanceof appconfig.CfnConfigurationProfile) as appconfig.CfnConfigurationProfile;
    profile.addPropertyOverride('Validators.0.Content', JSON.stringify({
      $schema: 'http://json-schema.org/draft-04/schema#',
      type: 'object',
      properties: { flags: { type: 'object', properties: { 'new-checkout': { type: 'object', properties: { rules: { type: 'array', maxItems: 1 } } } } } },
    }));
    const result = await rehearseFlagRollout(strict, { scenario: 'flag-rollout-healthy' });
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.trigger).toBe('validation-failed');
    expect(result.cause).toMatch(/AppConfig refused the flags document \(StartDeployment of version 2\): \/flags\/new-checkout\/rules: must NOT have more than 1 items/);
    // Nothing was deployed: the flag keeps its own rule only, and the lock is released.
    expect(result.deployments).toBe(0);
    expect(result.finalRule).toBeUndefined();
    expect(result.events).toEqual([FlagRolloutEvent.STARTED, FlagRolloutEvent.ROLLBACK_TRIGGERED, FlagRolloutEvent.ROLLED_BACK]);
    expect(result.lockOwnerAfter).toBeUndefined();
  });
});
