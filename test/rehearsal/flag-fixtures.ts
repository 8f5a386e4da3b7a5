/**
 * Fixtures of the flag rehearsal's tests: an AppConfig fake serving a flag's treatment to a share of users (for
 * FlagTraffic), and a small app with one short guarded flag rollout (for whole rehearsals).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import type { FlagRolloutConfig } from '../../lambda/flag-rollout/flag-rollout-contract';
import { FeatureFlags } from '../../lib/flags/feature-flags';
import { FlagRolloutPlan } from '../../lib/flags/flag-rollout-plan';
import { GuardedFlagRollout } from '../../lib/flags/guarded-flag-rollout';
import { AwsFakes } from '../../rehearsal/fakes';
import type { FakeAppConfig } from '../../rehearsal/fakes';
import { VirtualClock } from '../../rehearsal/virtual-clock';

/**
 * An AppConfig fake whose deployed document serves `on` of the boolean flag f (service shop) to `percent` of the users
 * (the guarded rollout's rule), and the rollout configuration FlagTraffic reads.
 */
export async function flagServedTo(percent: number): Promise<{ clock: VirtualClock; appconfig: FakeAppConfig; config: FlagRolloutConfig }> {
  const clock = new VirtualClock();
  const appconfig = new AwsFakes({ clock }).appconfig;
  const app = appconfig.createApplication('shop');
  const env = appconfig.createEnvironment(app);
  const profile = appconfig.createConfigurationProfile(app, 'flags');
  const strategy = appconfig.createDeploymentStrategy({ deploymentDurationInMinutes: 0, finalBakeTimeInMinutes: 0, growthFactor: 100 });
  const doc = { version: 1, flags: { f: { enabled: true, default: false, rules: [{ name: 'zdt-guarded-rollout', percent, serve: true }] } } };
  const version = appconfig.createHostedConfigurationVersion({ ApplicationId: app, ConfigurationProfileId: profile, Content: Buffer.from(JSON.stringify(doc)), ContentType: 'application/json' }).VersionNumber;
  await appconfig.startDeployment({ ApplicationId: app, EnvironmentId: env, ConfigurationProfileId: profile, ConfigurationVersion: String(version), DeploymentStrategyId: strategy });
  const config = {
    applicationId: app, environmentId: env, configurationProfileId: profile, flagKey: 'f', treatment: 'on',
    analysis: { namespace: 'ZdtFlagVariants', service: 'shop' },
  } as unknown as FlagRolloutConfig;
  return { clock, appconfig, config };
}

/** One stack: the flags, and a guarded rollout of new-checkout in two phases (20% for 30 minutes judged every 15, then 100%). */
export function shortFlagRolloutApp(): App {
  const app = new App({ builtinCloudFormationValidation: false } as never);
  const stack = new Stack(app, 'Shop');
  const flags = new FeatureFlags(stack, 'Flags', { flags: { version: 1, flags: { 'new-checkout': { enabled: true, default: false } } } as never });
  new GuardedFlagRollout(stack, 'NewCheckout', {
    flags, flagKey: 'new-checkout', serviceName: 'shop',
    plan: FlagRolloutPlan.percentage([{ percent: 20, duration: Duration.minutes(30), judgeInterval: Duration.minutes(15) }, { percent: 100 }]),
  });
  return app;
}
