// The rehearsal's generic engine: run a synthesized state machine locally on a virtual clock.
export * from './virtual-clock';
export * from './asl';
export * from './template';
export * from './resources';
export * from './retry';
export * from './definition';
export * from './runner';
export * from './handlers';
export * from './dynamodb-integration';

// The rehearsal of a rollout: deploy into the fakes, simulate traffic, run the real state machine, report.
export * from './result';
export { rehearse } from './rehearse';
export type { RehearseOptions, RehearsalTarget } from './rehearse';
export { rehearseRuns, summarizeRuns } from './rehearse-runs';
export type { RehearseRunsOptions, RehearsalRuns, RehearsalRunRecord, RunDistribution, RunOutcome } from './rehearse-runs';
export { renderRunsSummary } from './render-runs';
export { SCENARIOS, scenarioNamed } from './scenarios';
export type { Scenario, ScenarioTraffic, ScenarioFault, ScenarioExpectation, OperatorAction } from './scenarios';
export { renderSummary, renderJson } from './render-summary';
export { renderChart } from './render-chart';
export { TimelinePrinter, formatTimelineEntry } from './render-timeline';
export { AwsFakes } from './fakes';

// The rehearsal of a guarded flag rollout (GuardedFlagRollout): its own scenarios, rehearseRuns() takes their names.
export { rehearseFlagRollout, renderFlagRehearsal, flagScenarioNamed } from './flag-rehearsal';
export type { FlagRehearsalOptions, FlagRehearsalResult, FlagTimelineEntry } from './flag-rehearsal';
export { FLAG_SCENARIOS } from './flag-scenarios';
export type { FlagScenario, FlagRolloutOutcome } from './flag-scenarios';
