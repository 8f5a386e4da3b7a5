import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  FlagGuardConfig, FlagRolloutEvent, FlagRolloutRecord, GUARDED_RULE_NAME,
} from '../../lambda/flag-rollout/flag-rollout-contract';
import { handler } from '../../lambda/flag-rollout/flag-guard-handler';
import { CONFIG_ENV } from '../../lambda/shared/contracts';
import { SDK_RETRIES } from '../../lambda/shared/sdk-retries';
import { FakeAws, installAwsFakes } from '../lambda/support/aws';
import { guardFailureData, redrivenRecord } from '../lambda/support/guard';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:flag-rollout:stopped';
const OTHER = 'arn:aws:states:us-east-1:123456789012:execution:flag-rollout:other';
const TABLE = 'flag-locks';
const ORIGINAL = { enabled: true, default: false, rules: [{ name: 'staff', segments: ['internal'], serve: true }] };
const doc = (flag: unknown) => ({ version: 1, flags: { 'new-checkout': flag, 'other': { enabled: true, default: true } } });
/** The flag as the canary phase left it: its own rule, then the rollout's at 5%. */
const IN_CANARY = { ...ORIGINAL, rules: [...ORIGINAL.rules, { name: GUARDED_RULE_NAME, percent: 5, serve: true }] };

describe('flag rollout execution guard', () => {
  let fakes: FakeAws;
  let config: FlagGuardConfig;
  const ddb = new DynamoDBClient({});
  const lockKey = () => config.lock.service;

  /** Creates a version and deploys it with `strategy`, through the fake's back door (not logged, never faulted). */
  const deploy = async (content: unknown, strategy = config.flagRollout.deploymentStrategyId) => {
    const { applicationId, environmentId, configurationProfileId } = config.flagRollout;
    const v = fakes.aws.appconfig.createHostedConfigurationVersion({ ApplicationId: applicationId, ConfigurationProfileId: configurationProfileId, Content: Buffer.from(JSON.stringify(content)), ContentType: 'application/json' });
    await fakes.aws.appconfig.startDeployment({ ApplicationId: applicationId, EnvironmentId: environmentId, ConfigurationProfileId: configurationProfileId, ConfigurationVersion: String(v.VersionNumber), DeploymentStrategyId: strategy });
    return v.VersionNumber;
  };
  const served = () => {
    const { applicationId, environmentId, configurationProfileId } = config.flagRollout;
    return JSON.parse(fakes.aws.appconfig.deployedContent(applicationId, environmentId, configurationProfileId)!).flags['new-checkout'];
  };
  const deployments = () => fakes.aws.appconfig.deployments(config.flagRollout.applicationId, config.flagRollout.environmentId);
  const lockItem = async () => (await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { service: { S: lockKey() } } }))).Item;
  /** The lock as the stopped execution left it: held, with the record it wrote before its first phase (by `recordedBy`). */
  const holdLock = (owner: string, recordedBy: string | undefined = owner) => {
    const record = {
      [FlagRolloutRecord.OWNER]: { S: recordedBy! }, [FlagRolloutRecord.ORIGINAL_FLAG]: { S: JSON.stringify(ORIGINAL) },
      [FlagRolloutRecord.BASE_VERSION]: { N: '1' }, [FlagRolloutRecord.CONTROL]: { S: 'off' },
    };
    return ddb.send(new PutItemCommand({
      TableName: TABLE,
      Item: { service: { S: lockKey() }, lockOwner: { S: owner }, lockExpiresAt: { N: '9999999999' }, ...(recordedBy ? record : {}) },
    }));
  };
  const ended = (status = 'ABORTED') => ({ 'detail-type': 'Step Functions Execution Status Change', 'detail': { executionArn: EXECUTION, status } });

  beforeEach(async () => {
    fakes = installAwsFakes();
    process.env.ZDT_LOG_LEVEL = 'silent';
    const app = fakes.aws.appconfig.createApplication('shop');
    const env = fakes.aws.appconfig.createEnvironment(app);
    const profile = fakes.aws.appconfig.createConfigurationProfile(app, 'flags');
    const immediate = fakes.aws.appconfig.createDeploymentStrategy({ deploymentDurationInMinutes: 0, finalBakeTimeInMinutes: 0, growthFactor: 100 });
    fakes.aws.dynamodb.createTable(TABLE, 'service');
    config = {
      flagRollout: {
        applicationId: app, environmentId: env, configurationProfileId: profile, configurationProfileName: 'flags', deploymentStrategyId: immediate,
        flagKey: 'new-checkout', treatment: 'on',
        analysis: { namespace: 'N', service: 'shop', errorRateFactor: 2, alphaPerTest: 0.001, minRequests: 100, latencyMinRequests: 1000, metricDelaySeconds: 120, propagationSeconds: 60 },
      },
      lock: { tableName: TABLE, service: `flag/${app}/${profile}/new-checkout`, initialLiveColor: 'blue' },
      service: 'shop',
    };
    process.env[CONFIG_ENV] = JSON.stringify(config);
    await deploy(doc(ORIGINAL));
    await deploy(doc(IN_CANARY));
  });
  afterEach(() => fakes.restore());

  test('puts the flag\'s definition from before the rollout back, deployed, before the events, and frees the lock, when a stopped execution still holds it', async () => {
    await holdLock(EXECUTION);
    const servedWhenNotified: unknown[] = [];
    fakes.aws.events.onDeliver(() => { servedWhenNotified.push(served()); });

    const result = await handler(ended('ABORTED'));

    expect(result).toMatchObject({ action: 'restored', flagChanged: true, versionNumber: 3 });
    expect(served()).toEqual(ORIGINAL);
    expect(deployments().map((d) => d.state)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE']);
    expect(servedWhenNotified).toEqual([ORIGINAL]);
    const events = fakes.aws.events.events();
    expect(events.map((e) => e.detailType)).toEqual([FlagRolloutEvent.ROLLBACK_TRIGGERED, FlagRolloutEvent.ROLLED_BACK]);
    expect(events[1].detail).toMatchObject({
      service: 'shop', flag: 'new-checkout', execution: EXECUTION, treatment: 'on', control: 'off', flagChanged: true,
      trigger: { kind: 'execution-ended', reason: 'execution ended ABORTED while holding the flag\'s lock: the flag is back to its definition before the rollout' },
    });
    expect((await lockItem())!.lockOwner).toBeUndefined();
  });

  test('a second delivery of the same status change is a no-op: the lock is free, nothing is deployed or sent again', async () => {
    await holdLock(EXECUTION);
    await handler(ended('TIMED_OUT'));
    const sent = fakes.aws.events.events().length;
    await expect(handler(ended('TIMED_OUT'))).resolves.toMatchObject({ action: 'none', reason: 'the execution released its lock' });
    expect(deployments()).toHaveLength(3);
    expect(fakes.aws.events.events()).toHaveLength(sent);
  });

  test('leaves the flag alone when another execution holds the lock', async () => {
    await holdLock(OTHER);
    await expect(handler(ended('FAILED'))).resolves.toMatchObject({ action: 'none', reason: `the lock belongs to ${OTHER}` });
    expect(served()).toEqual(IN_CANARY);
    expect((await lockItem())!.lockOwner).toEqual({ S: OTHER });
  });

  test('an execution stopped before its first phase (no record of its own) only frees the lock: the flag is not touched', async () => {
    // The item still carries the record of an earlier execution: it is not this one's, so it is not restored.
    await holdLock(EXECUTION, OTHER);
    const result = await handler(ended('ABORTED'));
    expect(result).toMatchObject({ action: 'restored', flagChanged: false });
    expect(served()).toEqual(IN_CANARY);
    expect(deployments()).toHaveLength(2);
    expect((await lockItem())!.lockOwner).toBeUndefined();
    expect((fakes.aws.events.events()[1].detail as { trigger: { reason: string } }).trigger.reason).toMatch(/before it changed the flag/);
  });

  test('rides out AppConfig throttling within one invocation (its SDK clients retry)', async () => {
    await holdLock(EXECUTION);
    fakes.aws.faults.add({ service: 'appconfig', command: 'StartDeployment', error: 'ThrottlingException', times: SDK_RETRIES.maxAttempts - 1 });
    await expect(handler(ended())).resolves.toMatchObject({ action: 'restored', flagChanged: true });
    expect(fakes.aws.calls.filter((c) => c.command === 'StartDeployment')).toHaveLength(SDK_RETRIES.maxAttempts);
    expect(served()).toEqual(ORIGINAL);
  });

  describe('when the restore fails', () => {
    const guardFailures = () => guardFailureData(fakes);
    const redriven = (messageId: string, receiveCount: number) => redrivenRecord(messageId, receiveCount, ended());

    test('throttled past its SDK attempts: a Flag Rollout Guard Failed event and a GuardFailures datapoint (Service, Flag), the lock kept, the invocation retried', async () => {
      await holdLock(EXECUTION);
      fakes.aws.faults.add({ service: 'appconfig', command: 'CreateHostedConfigurationVersion', error: 'ThrottlingException', times: SDK_RETRIES.maxAttempts });
      await expect(handler(ended())).rejects.toMatchObject({ name: 'ZdtRetryableError' });
      const events = fakes.aws.events.events();
      expect(events.map((e) => e.detailType)).toEqual([FlagRolloutEvent.GUARD_FAILED]);
      expect(events[0].detail).toMatchObject({ service: 'shop', flag: 'new-checkout', execution: EXECUTION, status: 'ABORTED', attempt: { via: 'event' } });
      expect(events[0].detail.reason).toMatch(/could not restore flag new-checkout .*Flag new-checkout may still serve on to a share of users until a retry succeeds/);
      expect(guardFailures()).toEqual([expect.objectContaining({ Value: 1, Dimensions: [{ Name: 'Service', Value: 'shop' }, { Name: 'Flag', Value: 'new-checkout' }] })]);
      expect((await lockItem())!.lockOwner).toEqual({ S: EXECUTION });
      expect(served()).toEqual(IN_CANARY);
      // Lambda's retry: the throttling is over.
      await expect(handler(ended())).resolves.toMatchObject({ action: 'restored', flagChanged: true });
      expect(served()).toEqual(ORIGINAL);
    });

    test('stopped while AppConfig deploys (one deployment at a time): the try fails with the conflict, the retry queue re-drives it until the environment is free', async () => {
      // The execution was stopped while a slow deployment (someone else's, or AppConfig's own strategy) runs.
      const slow = fakes.aws.appconfig.createDeploymentStrategy({ deploymentDurationInMinutes: 10, finalBakeTimeInMinutes: 0, growthFactor: 100 });
      await deploy(doc(IN_CANARY), slow);
      await holdLock(EXECUTION);
      await expect(handler(redriven('m-1', 1))).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
      expect(fakes.aws.events.events()[0].detail).toMatchObject({ error: 'ZdtFlagDeploymentConflict', attempt: { via: 'retry-queue', receiveCount: 1 } });
      expect((await lockItem())!.lockOwner).toEqual({ S: EXECUTION });
      fakes.clock.advance(11 * 60_000);
      await expect(handler(redriven('m-1', 2))).resolves.toEqual({ batchItemFailures: [] });
      expect(served()).toEqual(ORIGINAL);
      expect((await lockItem())!.lockOwner).toBeUndefined();
    });
  });

  test('refuses a configuration without the flag rollout\'s names, naming the field', async () => {
    process.env[CONFIG_ENV] = JSON.stringify({ ...config, flagRollout: { ...config.flagRollout, flagKey: undefined } });
    await expect(handler(ended())).rejects.toThrow(/Flag guard ZDT_CONFIG flagRollout: "flagKey" must be a non-empty string; got undefined/);
  });
});
