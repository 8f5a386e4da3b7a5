export * from '../lambda/shared/contracts';
export * from './routing/blue-green-routing';
export * from './routing/live-route-provider';
export * from './rollout/rollout-strategy';
export * from './rollout/health-alarms';
export * from './rollout/progressive-rollout';
export * from './stacks/blue-green-stacks';
