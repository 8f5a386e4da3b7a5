import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, HistoryEvent, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { partExecutionArn, statusCommand } from '../../bin/commands/release-status';
import { OpsContext } from '../../bin/commands/rollout-ops';
import { ReleasePlanParts } from '../../lambda/release/release-plan-contract';

const sfnMock = mockClient(SFNClient);
const ARN = (kind: string, name: string) => `arn:aws:states:us-east-1:123456789012:${kind}:${name}`;
const PLAN = ARN('stateMachine', 'release');
const PLAN_EXEC = ARN('execution', 'release:r-42');
const parts: ReleasePlanParts = {
  kind: 'release-plan',
  migrationStateMachine: ARN('stateMachine', 'migration'),
  trafficStateMachine: ARN('stateMachine', 'rollout'),
  flagStateMachines: [{ flagKey: 'new-checkout', stateMachine: ARN('stateMachine', 'checkout') }],
};
const state = (name: string, output: unknown): HistoryEvent[] => [
  { id: 2, timestamp: new Date(), type: 'TaskStateEntered', stateEnteredEventDetails: { name } },
  { id: 1, timestamp: new Date(), type: 'PassStateExited', stateExitedEventDetails: { name: 'before', output: JSON.stringify(output) } },
];
const missing = Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' });

let lines: string[];
const ctx = (): OpsContext => ({ sfn: new SFNClient({}), ddb: new DynamoDBClient({}), out: (l) => lines.push(l), sleep: async () => undefined });

beforeEach(() => {
  sfnMock.reset();
  lines = [];
  sfnMock.on(ListExecutionsCommand, { stateMachineArn: PLAN, statusFilter: 'RUNNING' }).resolves({ executions: [{ executionArn: PLAN_EXEC } as never] });
  sfnMock.on(DescribeExecutionCommand).rejects(missing);
});

describe('zdt status of a release plan', () => {
  test('each part is the execution named after the plan\'s, in its part\'s state machine', () => {
    expect(partExecutionArn(parts.trafficStateMachine, PLAN_EXEC)).toBe(ARN('execution', 'rollout:r-42'));
  });

  test('shows the migration at its gate, the traffic rollout\'s step and weights, the flag\'s phase, and the contract not started', async () => {
    const migrationExec = ARN('execution', 'migration:r-42');
    const trafficExec = ARN('execution', 'rollout:r-42');
    const flagExec = ARN('execution', 'checkout:r-42');
    sfnMock.on(DescribeExecutionCommand, { executionArn: migrationExec }).resolves({ executionArn: migrationExec, status: 'RUNNING' });
    sfnMock.on(DescribeExecutionCommand, { executionArn: trafficExec }).resolves({ executionArn: trafficExec, status: 'RUNNING' });
    sfnMock.on(GetExecutionHistoryCommand, { executionArn: PLAN_EXEC }).resolves({ events: state('Traffic Rollout', {
      release: parts, migrationStatus: { migration: 'add_users_plan', status: 'validated', waitingForGate: true },
    }) });
    sfnMock.on(GetExecutionHistoryCommand, { executionArn: migrationExec }).resolves({ events: state('WaitForRollout', { backfill: { rowsDone: 1000, rowsTotal: 1000, done: true } }) });
    sfnMock.on(GetExecutionHistoryCommand, { executionArn: trafficExec }).resolves({ events: state('Bake', {
      plan: { service: 'web', stepCount: 5 }, cursor: { step: { number: 2, percent: 5, segments: [] } }, shift: { after: { blue: 95, green: 5 } }, bake: { passes: 3, required: 5 },
    }) });
    await statusCommand(ctx(), PLAN);
    expect(lines).toEqual([
      `release plan RUNNING at "Traffic Rollout": ${PLAN_EXEC}`,
      '  migration  add_users_plan: validated, waiting at its gate (backfill 1000/1000 rows) · at "WaitForRollout"',
      '  traffic    step 2/5 · blue 95% · green 5% · bake [######....] 3/5 · at "Bake"',
      '  flag new-checkout  not started',
      '  contract   not started',
    ]);
    expect(sfnMock.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn)).toContain(flagExec);
  });

  test('after a flag regression: the traffic live, the flag rolled back, the migration still at its gate, the plan halted', async () => {
    sfnMock.on(ListExecutionsCommand, { stateMachineArn: PLAN, statusFilter: 'RUNNING' }).resolves({ executions: [] });
    sfnMock.on(ListExecutionsCommand, { stateMachineArn: PLAN, maxResults: 1 }).resolves({ executions: [{ executionArn: PLAN_EXEC } as never] });
    sfnMock.on(DescribeExecutionCommand, { executionArn: PLAN_EXEC }).resolves({ status: 'FAILED', error: 'ZdtReleaseHalted', cause: 'flag new-checkout failed' });
    sfnMock.on(DescribeExecutionCommand, { executionArn: ARN('execution', 'migration:r-42') }).resolves({ executionArn: ARN('execution', 'migration:r-42'), status: 'RUNNING' });
    sfnMock.on(DescribeExecutionCommand, { executionArn: ARN('execution', 'rollout:r-42') }).resolves({ status: 'SUCCEEDED' });
    sfnMock.on(DescribeExecutionCommand, { executionArn: ARN('execution', 'checkout:r-42') }).resolves({ status: 'FAILED', error: 'ZdtFlagRolledBack', cause: 'regression' });
    sfnMock.on(GetExecutionHistoryCommand, { executionArn: PLAN_EXEC }).resolves({ events: state('Release Halted', {
      release: parts, migrationStatus: { migration: 'add_users_plan', status: 'validated', waitingForGate: true },
    }) });
    sfnMock.on(GetExecutionHistoryCommand, { executionArn: ARN('execution', 'migration:r-42') }).resolves({ events: state('WaitForRollout', {}) });
    await statusCommand(ctx(), PLAN);
    expect(lines).toEqual([
      `release plan FAILED (ZdtReleaseHalted: flag new-checkout failed): ${PLAN_EXEC}`,
      '  migration  add_users_plan: validated, waiting at its gate · at "WaitForRollout"',
      '  traffic    SUCCEEDED (new version live)',
      '  flag new-checkout  FAILED (ZdtFlagRolledBack: regression)',
      '  contract   not started',
    ]);
  });

  test('reads the histories page by page (nextToken) until it finds the newest state and its output, past pages of retries', async () => {
    const migrationExec = ARN('execution', 'migration:r-42');
    const flagExec = ARN('execution', 'checkout:r-42');
    sfnMock.on(DescribeExecutionCommand, { executionArn: migrationExec }).resolves({ executionArn: migrationExec, status: 'RUNNING' });
    sfnMock.on(DescribeExecutionCommand, { executionArn: ARN('execution', 'rollout:r-42') }).resolves({ status: 'SUCCEEDED' });
    sfnMock.on(DescribeExecutionCommand, { executionArn: flagExec }).resolves({ executionArn: flagExec, status: 'RUNNING' });
    sfnMock.on(GetExecutionHistoryCommand, { executionArn: PLAN_EXEC }).resolves({ events: state('Flag Rollout new-checkout', {
      release: parts, migrationStatus: { migration: 'add_users_plan', status: 'validated', waitingForGate: true },
    }) });
    sfnMock.on(GetExecutionHistoryCommand, { executionArn: migrationExec }).resolves({ events: state('WaitForRollout', {}) });
    // The flag rollout's newest 400 events: a deployment retried while AppConfig deploys something else (no state
    // output among them); its state and phase are on the third page.
    const retries = (from: number): HistoryEvent[] => Array.from({ length: 200 }, (_, i) => ({ id: 10_000 - from - i, timestamp: new Date(), type: i % 2 ? 'TaskScheduled' : 'TaskFailed' }));
    const phase = { number: 2, name: 'canary', percent: 5, durationSeconds: 172800, intervalSeconds: 3600, judge: true, pause: false };
    sfnMock.on(GetExecutionHistoryCommand, { executionArn: flagExec, nextToken: undefined }).resolves({ events: retries(0), nextToken: 'page-2' });
    sfnMock.on(GetExecutionHistoryCommand, { executionArn: flagExec, nextToken: 'page-2' }).resolves({ events: retries(200), nextToken: 'page-3' });
    sfnMock.on(GetExecutionHistoryCommand, { executionArn: flagExec, nextToken: 'page-3' }).resolves({
      events: state('Deploy Phase', { plan: { phases: [{}, phase, {}, {}, {}] }, cursor: { index: 1, phase } }), nextToken: 'page-4',
    });
    await statusCommand(ctx(), PLAN);
    expect(lines).toContain('  flag new-checkout  phase 2/5 (canary): 5% of users · at "Deploy Phase"');
    // Three pages of the flag's history, and not the fourth: it stops once it has what it needs.
    const flagPages = sfnMock.commandCalls(GetExecutionHistoryCommand).filter((c) => c.args[0].input.executionArn === flagExec).map((c) => c.args[0].input.nextToken);
    expect(flagPages).toEqual([undefined, 'page-2', 'page-3']);
  });

  test('a flag the plan restored after a later flag failed says so', async () => {
    const twoFlags: ReleasePlanParts = { ...parts, flagStateMachines: [...parts.flagStateMachines, { flagKey: 'fast-search', stateMachine: ARN('stateMachine', 'search') }] };
    sfnMock.on(ListExecutionsCommand, { stateMachineArn: PLAN, statusFilter: 'RUNNING' }).resolves({ executions: [] });
    sfnMock.on(ListExecutionsCommand, { stateMachineArn: PLAN, maxResults: 1 }).resolves({ executions: [{ executionArn: PLAN_EXEC } as never] });
    sfnMock.on(DescribeExecutionCommand, { executionArn: PLAN_EXEC }).resolves({ status: 'FAILED', error: 'ZdtReleaseHalted', cause: 'flag fast-search failed' });
    sfnMock.on(DescribeExecutionCommand, { executionArn: ARN('execution', 'rollout:r-42') }).resolves({ status: 'SUCCEEDED' });
    sfnMock.on(DescribeExecutionCommand, { executionArn: ARN('execution', 'checkout:r-42') }).resolves({ status: 'SUCCEEDED' });
    sfnMock.on(DescribeExecutionCommand, { executionArn: ARN('execution', 'search:r-42') }).resolves({ status: 'FAILED', error: 'ZdtFlagRolledBack', cause: 'regression' });
    sfnMock.on(GetExecutionHistoryCommand, { executionArn: PLAN_EXEC }).resolves({ events: state('Release Halted, Flags Restored', {
      release: twoFlags, flagRestore0: { changed: true, versionNumber: 7, deploymentNumber: 9 }, flagRestore0State: { state: 'COMPLETE' },
    }) });
    await statusCommand(ctx(), PLAN);
    expect(lines.slice(3, 5)).toEqual([
      '  flag new-checkout  SUCCEEDED, then restored by the plan (a later flag failed): back to its definition before the plan',
      '  flag fast-search  FAILED (ZdtFlagRolledBack: regression)',
    ]);
  });

  test('a state machine that is not a release plan gets the rollout\'s status', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: state('Bake', { plan: { service: 'web', stepCount: 5 }, cursor: { step: { number: 1, percent: 1, segments: [] } } }) });
    await statusCommand(ctx(), PLAN);
    expect(lines).toEqual([`running: ${PLAN_EXEC}`, '  step 1/5 · at "Bake"']);
  });
});
