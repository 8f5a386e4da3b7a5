/**
 * `zdt switchover status | approve | abort` on a BlueGreenDatabase state machine waiting for approval. The execution
 * history is shaped as GetExecutionHistory returns it for the construct's AwaitApproval task
 * (events:putEvents.waitForTaskToken, its Detail carrying the token), newest first.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand, GetExecutionHistoryCommand, HistoryEvent, ListExecutionsCommand, SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { main } from '../../bin/cli';
import { UsageError } from '../../bin/commands/args';
import { OpsContext } from '../../bin/commands/rollout-ops';
import { abortSwitchover, approveSwitchover, switchoverStatus } from '../../bin/commands/switchover-ops';
import { BlueGreenEvent } from '../../lambda/database/blue-green-contract';

const sfnMock = mockClient(SFNClient);
const SM = 'arn:aws:states:us-east-1:123456789012:stateMachine:PostgresUpgrade';
const EXEC = 'arn:aws:states:us-east-1:123456789012:execution:PostgresUpgrade:e1';
const RESOURCE = 'putEvents.waitForTaskToken';

let lines: string[];
const ctx = (): OpsContext => ({ sfn: new SFNClient({}), ddb: new DynamoDBClient({}), out: (l) => lines.push(l), sleep: async () => undefined });

const entered = (name: string): HistoryEvent => ({ id: 20, timestamp: new Date(), type: 'TaskStateEntered', stateEnteredEventDetails: { name } });
const approvalScheduled: HistoryEvent = {
  id: 21, timestamp: new Date(), type: 'TaskScheduled',
  taskScheduledEventDetails: {
    resourceType: 'events', resource: RESOURCE, region: 'us-east-1',
    parameters: JSON.stringify({ Entries: [{
      Source: 'cdk-zero-downtime', DetailType: BlueGreenEvent.AWAITING_APPROVAL, EventBusName: 'default',
      Detail: { deploymentName: 'orders-pg18', deploymentId: 'bgd-abc123', taskToken: 'APPROVAL-TOKEN', execution: EXEC },
    }] }),
  },
};
const approvalSucceeded: HistoryEvent = { id: 22, timestamp: new Date(), type: 'TaskSucceeded', taskSucceededEventDetails: { resourceType: 'events', resource: RESOURCE, output: '{}' } };

function running(history: HistoryEvent[]) {
  sfnMock.on(ListExecutionsCommand, { stateMachineArn: SM, statusFilter: 'RUNNING' }).resolves({ executions: [{ executionArn: EXEC, stateMachineArn: SM, name: 'e1', status: 'RUNNING', startDate: new Date() }] });
  sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: EXEC, stateMachineArn: SM, status: 'RUNNING', startDate: new Date() });
  sfnMock.on(GetExecutionHistoryCommand).resolves({ events: history });
}

beforeEach(() => {
  sfnMock.reset();
  lines = [];
});

describe('zdt switchover', () => {
  test('status shows a switchover waiting for approval, with the deployment', async () => {
    running([entered('AwaitApproval'), approvalScheduled]);
    await expect(switchoverStatus(ctx(), SM)).resolves.toBe(0);
    expect(lines).toEqual([`${EXEC}: RUNNING at "AwaitApproval" · WAITING FOR APPROVAL of bgd-abc123: zdt switchover approve | abort`]);
  });

  test('approve answers the approval\'s token with SendTaskSuccess', async () => {
    running([entered('AwaitApproval'), approvalScheduled]);
    await expect(approveSwitchover(ctx(), SM, 'dba-on-call')).resolves.toBe(0);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'APPROVAL-TOKEN', output: JSON.stringify({ approved: true, by: 'dba-on-call' }) });
    expect(lines[0]).toMatch(/^approved .*: bgd-abc123 switches over now$/);
  });

  test('abort fails the approval with ZdtAborted and the reason; nothing is switched over', async () => {
    running([entered('AwaitApproval'), approvalScheduled]);
    await expect(abortSwitchover(ctx(), SM, 'replica lag looked odd')).resolves.toBe(0);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: 'APPROVAL-TOKEN', error: 'ZdtAborted', cause: 'replica lag looked odd' });
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('refuses to approve a switchover that is past its approval, or when none runs, sending nothing', async () => {
    running([entered('SwitchoverStatus'), approvalSucceeded, approvalScheduled]);
    await expect(approveSwitchover(ctx(), SM, 'x')).rejects.toThrow(new UsageError(`the switchover ${EXEC} is not waiting for approval (it is at "SwitchoverStatus"): nothing to approve`));
    sfnMock.reset();
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
    await expect(abortSwitchover(ctx(), SM, 'x')).rejects.toThrow(/no switchover is running on .*PostgresUpgrade: nothing to abort/);
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  test('the CLI routes the subcommands and refuses an unknown one with the usage exit code', async () => {
    running([entered('AwaitApproval'), approvalScheduled]);
    const out: string[] = [];
    await expect(main(['switchover', 'approve', '--state-machine', SM, '--by', 'me'], (l) => out.push(l))).resolves.toBe(0);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'APPROVAL-TOKEN' });
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await expect(main(['switchover', 'go', '--state-machine', SM])).resolves.toBe(64);
      expect(errors.mock.calls[0][0]).toMatch(/switchover needs one of status \| approve \| abort, got "go"/);
    } finally {
      errors.mockRestore();
    }
  });
});
