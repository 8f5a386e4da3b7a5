import { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ErrorName, LockConfig, StateTable } from '../../lambda/shared/contracts';
import { handler } from '../../lambda/rollout/lock-handler';
import { FakeAws, installAwsFakes } from './support/aws';
import { expectInvalidRequest, NOW_MS, NOW_SECONDS, setConfig } from './support/env';

const TABLE = 'zdt-rollout-state';
const SERVICE = 'web';
const ME = 'arn:aws:states:us-east-1:111122223333:execution:web-rollout:release-42';
const OTHER = 'arn:aws:states:us-east-1:111122223333:execution:web-rollout:release-41';
const TTL = 3600;

let fakes: FakeAws;

/** Writes the service's item behind the handler's back. */
function put(attributes: Record<string, AttributeValue>): void {
  fakes.aws.dynamodb.putItem({ TableName: TABLE, Item: { [StateTable.PARTITION_KEY]: { S: SERVICE }, ...attributes } });
}

/** The service's item as the table holds it now. */
function item(): Record<string, AttributeValue> | undefined {
  return fakes.aws.dynamodb.getItem({ TableName: TABLE, Key: { [StateTable.PARTITION_KEY]: { S: SERVICE } } }).Item;
}

function lockedBy(owner: string, expiresAt: number, extra: Record<string, AttributeValue> = {}): void {
  put({
    [StateTable.LOCK_OWNER]: { S: owner },
    [StateTable.LOCK_EXPIRES_AT]: { N: String(expiresAt) },
    ...extra,
  });
}

const acquire = (owner = ME) => handler({ action: 'acquire', owner, ttlSeconds: TTL });
const pause = (owner = ME) => handler({ action: 'pause', owner, taskToken: 'token-abc', step: 2 });

beforeEach(() => {
  fakes = installAwsFakes();
  fakes.aws.dynamodb.createTable(TABLE, StateTable.PARTITION_KEY);
  const config: LockConfig = { tableName: TABLE, service: SERVICE, initialLiveColor: 'blue' };
  setConfig(config);
});
afterEach(() => fakes.restore());

describe('Rollout lock', () => {
  describe('acquire', () => {
    test('takes a free lock until now + ttl, with the initial live color on the first rollout', async () => {
      await expect(acquire()).resolves.toEqual({ owner: ME, expiresAt: NOW_SECONDS + TTL, recordedLiveColor: 'blue' });
      expect(item()).toMatchObject({
        [StateTable.LOCK_OWNER]: { S: ME },
        [StateTable.LOCK_EXPIRES_AT]: { N: String(NOW_SECONDS + TTL) },
        [StateTable.UPDATED_AT]: { S: new Date(NOW_MS).toISOString() },
      });
    });

    test('reports the live color the table records', async () => {
      put({ [StateTable.LIVE_COLOR]: { S: 'green' } });
      await expect(acquire()).resolves.toMatchObject({ recordedLiveColor: 'green' });
    });

    test('takes over the expired lock of a crashed execution and drops its pause token and abort request', async () => {
      lockedBy(OTHER, NOW_SECONDS - 1, {
        [StateTable.PAUSE_TOKEN]: { S: 'stale-token' },
        [StateTable.PAUSED_STEP]: { N: '3' },
        [StateTable.ABORT_REQUESTED]: { S: 'true' },
        [StateTable.ABORT_REASON]: { S: 'operator abort of release-41' },
      });
      await expect(acquire()).resolves.toMatchObject({ owner: ME, expiresAt: NOW_SECONDS + TTL });
      const taken = item()!;
      expect(taken[StateTable.LOCK_OWNER]).toEqual({ S: ME });
      expect(taken[StateTable.PAUSE_TOKEN]).toBeUndefined();
      expect(taken[StateTable.PAUSED_STEP]).toBeUndefined();
      expect(taken[StateTable.ABORT_REQUESTED]).toBeUndefined();
      expect(taken[StateTable.ABORT_REASON]).toBeUndefined();
    });

    test('is re-entrant for the execution that holds it (a retried task)', async () => {
      lockedBy(ME, NOW_SECONDS + 100);
      await expect(acquire()).resolves.toMatchObject({ owner: ME, expiresAt: NOW_SECONDS + TTL });
    });

    test('refuses with ROLLOUT_IN_PROGRESS naming the holder and its expiry, and leaves the lock alone', async () => {
      const expiresAt = NOW_SECONDS + 600;
      lockedBy(OTHER, expiresAt);
      const error = await acquire().catch((e: Error) => e);
      expect(error).toMatchObject({ name: ErrorName.ROLLOUT_IN_PROGRESS });
      expect((error as Error).message).toContain(SERVICE);
      expect((error as Error).message).toContain(OTHER);
      expect((error as Error).message).toContain(new Date(expiresAt * 1000).toISOString());
      expect(item()![StateTable.LOCK_OWNER]).toEqual({ S: OTHER });
      expect(item()![StateTable.LOCK_EXPIRES_AT]).toEqual({ N: String(expiresAt) });
    });

    test('asks for a retry when the lock was released between the refused write and the read', async () => {
      // The write was refused while another execution held the lock; by the read, the lock is free.
      fakes.aws.faults.add({ service: 'dynamodb', command: 'UpdateItem', error: 'ConditionalCheckFailedException', message: 'The conditional request failed' });
      await expect(acquire()).rejects.toMatchObject({ name: ErrorName.RETRYABLE, message: expect.stringContaining('changed hands') });
    });

    test('turns throttling into a ZdtRetryableError naming the operation', async () => {
      fakes.aws.faults.add({ service: 'dynamodb', command: 'UpdateItem', error: 'ProvisionedThroughputExceededException' });
      await expect(acquire()).rejects.toMatchObject({ name: ErrorName.RETRYABLE, message: expect.stringContaining(`UpdateItem(${TABLE}, ${SERVICE})`) });
    });

    test.each([
      [{ action: 'acquire', owner: ME, ttlSeconds: 0 }, 'ttlSeconds', '0'],
      [{ action: 'acquire', owner: '', ttlSeconds: TTL }, 'owner', '""'],
      [{ action: 'pause', owner: ME, step: 1 }, 'taskToken', 'undefined'],
      [{ action: 'release', owner: ME }, 'action', '"release"'],
    ])('refuses %j with INVALID_REQUEST naming the field and the value', async (request, field, given) => {
      await expectInvalidRequest(handler(request), field, given);
    });
  });

  describe('pause', () => {
    test('stores the task token and the step for the lock\'s owner', async () => {
      lockedBy(ME, NOW_SECONDS + TTL);
      await expect(pause()).resolves.toEqual({ service: SERVICE, owner: ME, step: 2 });
      expect(item()).toMatchObject({
        [StateTable.PAUSE_TOKEN]: { S: 'token-abc' },
        [StateTable.PAUSED_STEP]: { N: '2' },
        [StateTable.LOCK_OWNER]: { S: ME },
      });
    });

    test('refuses an execution that does not hold the lock, storing nothing', async () => {
      lockedBy(OTHER, NOW_SECONDS + TTL);
      await expect(pause()).rejects.toMatchObject({
        name: ErrorName.ROLLOUT_IN_PROGRESS,
        message: expect.stringContaining(`execution ${OTHER} holds it`),
      });
      expect(item()![StateTable.PAUSE_TOKEN]).toBeUndefined();
    });

    test('refuses when nobody holds the lock', async () => {
      await expect(pause()).rejects.toMatchObject({ name: ErrorName.ROLLOUT_IN_PROGRESS, message: expect.stringContaining('nobody holds it') });
      expect(item()?.[StateTable.PAUSE_TOKEN]).toBeUndefined();
    });
  });
});
