// The constructs' public API (compiled by jsii for Python, Java, .NET and Go): constructs, their props, strategies,
// and the names of the events and errors users match on. The handlers' wire types (lambda/**) stay internal; the
// tools (rehearsal, CLI, migration engine, flags evaluator) have their own entry points.
// One named export list per module, so that additions stay line-local.
export { Color } from './routing/color';
export {
  BlueGreenRouting, type BlueGreenRoutingAttributes, type BlueGreenRoutingOptions, type BlueGreenRoutingProps, type IBlueGreenRouting, type TestRouteOptions,
} from './routing/blue-green-routing';
export { type CanaryOptions, type LinearOptions, type RolloutStep, RolloutStrategy, type SegmentFirstOptions, type StrategyBakeOptions } from './rollout/rollout-strategy';
export { ColorHealthAlarms, type ColorHealthAlarmsProps, type HealthAlarmOptions } from './rollout/health-alarms';
export { ColorHighResolutionAlarms, type ColorHighResolutionAlarmsProps, type HighResolutionSignalOptions } from './rollout/high-resolution-alarms';
export { InconclusiveAction } from './rollout/inconclusive-action';
export { AnalysisMethod } from './rollout/analysis-method';
export { BaselineDegradedAction } from './rollout/baseline-policy';
export {
  type IProgressiveRollout, type MetricAnalysisOptions, ProgressiveRollout, type ProgressiveRolloutAttributes, type ProgressiveRolloutOptions,
  type ProgressiveRolloutProps, type RolloutHealthAlarmOptions,
} from './rollout/progressive-rollout';
export {
  type BlueGreenNetwork, BlueGreenStacks, type BlueGreenStacksProps, type ColorEnvironmentContext, type IBlueGreenNetworkFactory, type IColorEnvironmentFactory,
} from './stacks/blue-green-stacks';
export { DatabaseTls } from './database/database-tls';
export { type IMigrationDatabase, SchemaMigration, type SchemaMigrationProps } from './database/schema-migration';
export { DatabaseSource, type DatabaseSourceConfig } from './database/database-source';
export { DatabaseSourceKind } from './database/database-source-kind';
export { SwitchoverApproval } from './database/switchover-approval';
export { BlueGreenDatabase, type BlueGreenDatabaseProps } from './database/blue-green-database';
export { RolloutDashboard, type RolloutDashboardProps } from './monitoring/rollout-dashboard';
export { DatabaseGate, type DatabaseGateProps } from './gates/database-gate';
export { FunctionalTestGate, type FunctionalTestGateProps } from './gates/functional-test-gate';
export { HttpGate, type HttpGateProps } from './gates/http-gate';
export { type LoadBalancerGateProps } from './gates/load-balancer-gate-props';
export { PerformanceGate, type PerformanceGateProps } from './gates/performance-gate';
export { ValidationGate } from './gates/validation-gate';
export { GatePhase, type GateTestBuild, type IValidationGate, type ValidationGateBinding, type ValidationGateContext } from './gates/validation-gate-binding';
export { RolloutEventKind } from './monitoring/rollout-event-kind';
export { type INotificationChannel, type NotificationChannelContext } from './monitoring/notification-channel-binding';
export { NotificationChannel } from './monitoring/notification-channel';
export { EmailChannel, type EmailChannelProps } from './monitoring/email-channel';
export { ChatApplication, ChatChannel, type MicrosoftTeamsChannelProps, type SlackChannelProps } from './monitoring/chat-channel';
export { WebhookChannel, type WebhookChannelProps } from './monitoring/webhook-channel';
export { StatusPageChannel, type StatusPageChannelProps } from './monitoring/status-page-channel';
export { type NotificationRoute, RolloutNotifications, type RolloutNotificationsProps } from './monitoring/rollout-notifications';
export { RolloutAction, type RolloutActionOptions, type RolloutActionProps, RolloutPipelineStep, type RolloutPipelineStepProps } from './pipeline/rollout-step';
export { FeatureFlags, type FeatureFlagsProps } from './flags/feature-flags';
export {
  type ExponentialFlagDeploymentOptions, FlagDeployment, type FlagDeploymentBakeOptions, type FlagDeploymentConfig, type LinearFlagDeploymentOptions,
} from './flags/flag-deployment';
export { ZeroDowntimeEventSource } from './events/event-source';
export { RolloutEvent } from './events/rollout-event';
export { ErrorName } from './events/error-name';
export { MigrationEvent } from './events/migration-event';
export { MigrationErrorName } from './events/migration-error-name';
export { BlueGreenEvent } from './events/blue-green-event';
export { BlueGreenErrorName } from './events/blue-green-error-name';
export { type PercentagePhase, type SegmentPhase, type SegmentRolloutOptions, FlagRolloutPlan } from './flags/flag-rollout-plan';
export { GuardedFlagRollout, type GuardedFlagRolloutProps } from './flags/guarded-flag-rollout';
export { FlagRolloutEvent } from './events/flag-rollout-event';
export { FlagRolloutErrorName } from './events/flag-rollout-error-name';
export { ReleasePlan, type ReleasePlanProps } from './release/release-plan';
export { ReleasePlanEvent } from './events/release-plan-event';
export { ReleasePlanErrorName } from './events/release-plan-error-name';
