export * from '../lambda/shared/contracts';
export * from './routing/blue-green-routing';
export * from './routing/live-route-provider';
export * from './rollout/rollout-strategy';
export * from './rollout/health-alarms';
export * from './rollout/progressive-rollout';
export * from './rollout/analysis-method';
export * from './rollout/baseline-policy';
export * from './stacks/blue-green-stacks';
export * from './database/schema-migration';
export * from './database/blue-green-database';
export { BlueGreenEvent, BlueGreenErrorName } from '../lambda/database/blue-green-contract';
export type { SourceKind, BlueGreenHandlerConfig, BlueGreenRequest } from '../lambda/database/blue-green-contract';
// The migration engine (MigrationEngine, formatPlan) is in the tools package: cdk-zero-downtime-tools/migrations.
export type { Migration, Operation, ColumnDefinition } from '../lambda/database/migration-definition-contract';
export { MigrationEvent } from '../lambda/database/migration-contract';
export * from './monitoring/rollout-dashboard';
export * from './pipeline/rollout-step';
export * from './flags/feature-flags';
export * from './flags/flag-deployment';
// The flags evaluator applications import is in cdk-zero-downtime-runtime; the document format is part of the props.
export * from '../lambda/flags/flags-contract';
