import { AttributeValue, GetItemCommand, ReturnValue, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { clock } from '../shared/clock';
import { Color, ErrorName, isColor, LockAcquireResult, LockConfig, StateTable } from '../shared/contracts';
import { awsCall, ZdtError } from '../shared/errors';
import { log } from '../shared/log';
import { dynamoDb } from '../shared/clients';

/**
 * The rollout lock: one item per service in the rollout state table. One rollout at a time per
 * service; a second one is refused with ROLLOUT_IN_PROGRESS naming the holder, and the lock of
 * a crashed execution frees itself when it expires.
 */

const MS_PER_SECOND = 1000;
const CONDITIONAL_CHECK_FAILED = 'ConditionalCheckFailedException';

export interface LockPauseResult {
  readonly service: string;
  readonly owner: string;
  readonly step: number;
}

const NAMES = {
  '#owner': StateTable.LOCK_OWNER,
  '#expires': StateTable.LOCK_EXPIRES_AT,
  '#updated': StateTable.UPDATED_AT,
};
/** What belongs to one rollout and goes with its lock: the pause token and step, the operator's abort and promote requests. */
const ROLLOUT_NAMES = {
  '#token': StateTable.PAUSE_TOKEN,
  '#step': StateTable.PAUSED_STEP,
  '#abort': StateTable.ABORT_REQUESTED,
  '#reason': StateTable.ABORT_REASON,
  '#promoteFull': StateTable.PROMOTE_FULL_REQUESTED,
  '#bakeToken': StateTable.BAKE_TOKEN,
  '#bakeOwner': StateTable.BAKE_OWNER,
  '#bakeColor': StateTable.BAKE_COLOR,
};

function nowSeconds(): number {
  return Math.floor(clock().now() / MS_PER_SECOND);
}

function iso(epochSeconds: number): string {
  return new Date(epochSeconds * MS_PER_SECOND).toISOString();
}

function key(config: LockConfig): Record<string, AttributeValue> {
  return { [StateTable.PARTITION_KEY]: { S: config.service } };
}

/** What the lock guards, for its messages. */
function subjectOf(config: LockConfig): string {
  return config.subject ?? `Service ${config.service}`;
}

function isConditionFailure(err: unknown): boolean {
  return err instanceof Error && err.name === CONDITIONAL_CHECK_FAILED;
}

/** The service's state item as the lock sees it. */
export interface LockState {
  readonly owner?: string;
  /** Epoch seconds. */
  readonly expiresAt?: number;
  /** The live color the table records (initialLiveColor when it records none). */
  readonly recordedLiveColor: Color;
}

/** The live color an item records; INVALID_REQUEST when it records something that is not a color. */
function recordedLiveColorOf(config: LockConfig, item: Record<string, AttributeValue> | undefined): Color {
  const recorded = item?.[StateTable.LIVE_COLOR]?.S;
  if (recorded !== undefined && !isColor(recorded)) {
    throw new ZdtError(ErrorName.INVALID_REQUEST, `Table ${config.tableName} records live color ${JSON.stringify(recorded)} for service ${config.service}; expected "blue" or "green"`);
  }
  return recorded ?? config.initialLiveColor;
}

/** Who holds the service's lock now, and the recorded live color, read consistently. */
export async function readLock(config: LockConfig): Promise<LockState> {
  return lockStateOf(config, await readStateItem(config));
}

/** The service's state item, read consistently (what a lock decision needs). */
export async function readStateItem(config: LockConfig): Promise<Record<string, AttributeValue> | undefined> {
  const out = await awsCall(`GetItem(${config.tableName}, ${config.service})`, () => dynamoDb().send(new GetItemCommand({
    TableName: config.tableName, Key: key(config), ConsistentRead: true,
  })));
  return out.Item;
}

function lockStateOf(config: LockConfig, item: Record<string, AttributeValue> | undefined): LockState {
  const expires = item?.[StateTable.LOCK_EXPIRES_AT]?.N;
  return {
    owner: item?.[StateTable.LOCK_OWNER]?.S,
    expiresAt: expires === undefined ? undefined : Number(expires),
    recordedLiveColor: recordedLiveColorOf(config, item),
  };
}

/**
 * Releases the lock `owner` holds, with what belongs to its rollout (pause token, abort request). The state
 * machine releases its own lock natively (lib/private/rollout-definition.ts); the guard releases a dead one here.
 */
export async function releaseLock(config: LockConfig, owner: string): Promise<void> {
  await awsCall(`UpdateItem(${config.tableName}, ${config.service})`, () => dynamoDb().send(new UpdateItemCommand({
    TableName: config.tableName,
    Key: key(config),
    ConditionExpression: '#owner = :owner',
    UpdateExpression: 'SET #updated = :updated REMOVE #owner, #expires, #token, #step, #abort, #reason, #promoteFull, #bakeToken, #bakeOwner, #bakeColor',
    ExpressionAttributeNames: { ...NAMES, ...ROLLOUT_NAMES },
    ExpressionAttributeValues: { ':owner': { S: owner }, ':updated': { S: new Date(clock().now()).toISOString() } },
  })));
}

/**
 * Takes the service's lock for `owner` until now + `ttlSeconds`: free, expired, or already
 * held by the same owner (a retried task). Taking it clears the pause token and any abort or
 * promote request left by an earlier execution (they were meant for that one). Otherwise
 * ROLLOUT_IN_PROGRESS names the holding execution and its expiry.
 */
export async function acquireLock(config: LockConfig, owner: string, ttlSeconds: number): Promise<LockAcquireResult> {
  const now = nowSeconds();
  const expiresAt = now + ttlSeconds;
  let attributes: Record<string, AttributeValue> | undefined;
  try {
    const out = await awsCall(`UpdateItem(${config.tableName}, ${config.service})`, () => dynamoDb().send(new UpdateItemCommand({
      TableName: config.tableName,
      Key: key(config),
      UpdateExpression: 'SET #owner = :owner, #expires = :expires, #updated = :updated REMOVE #token, #step, #abort, #reason, #promoteFull, #bakeToken, #bakeOwner, #bakeColor',
      ConditionExpression: 'attribute_not_exists(#owner) OR #expires < :now OR #owner = :owner',
      ExpressionAttributeNames: { ...NAMES, ...ROLLOUT_NAMES },
      ExpressionAttributeValues: {
        ':owner': { S: owner },
        ':expires': { N: String(expiresAt) },
        ':updated': { S: new Date(clock().now()).toISOString() },
        ':now': { N: String(now) },
      },
      ReturnValues: ReturnValue.ALL_NEW,
    })));
    attributes = out.Attributes;
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const holder = await readLock(config);
    if (holder.owner === undefined || holder.expiresAt === undefined || holder.expiresAt < now || holder.owner === owner) {
      throw new ZdtError(ErrorName.RETRYABLE, `The lock of ${subjectOf(config)} (table ${config.tableName}) changed hands while ${owner} was taking it; try again`);
    }
    throw new ZdtError(ErrorName.ROLLOUT_IN_PROGRESS, `${subjectOf(config)} already has a rollout in progress: execution ${holder.owner} holds its lock (table ${config.tableName}) until ${iso(holder.expiresAt)}. Wait for that rollout to end; the lock of a crashed execution expires at that time.`);
  }
  const recordedLiveColor = recordedLiveColorOf(config, attributes);
  log('info', 'lock acquired', { service: config.service, owner, expiresAt: iso(expiresAt), recordedLiveColor });
  return { owner, expiresAt, recordedLiveColor };
}

/**
 * Stores the task token of a paused step, for the operator's promote / abort, only while
 * `owner` holds the lock; otherwise ROLLOUT_IN_PROGRESS says who does.
 */
export async function pauseRollout(config: LockConfig, owner: string, taskToken: string, step: number): Promise<LockPauseResult> {
  try {
    await awsCall(`UpdateItem(${config.tableName}, ${config.service})`, () => dynamoDb().send(new UpdateItemCommand({
      TableName: config.tableName,
      Key: key(config),
      UpdateExpression: 'SET #token = :token, #step = :step, #updated = :updated',
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': StateTable.LOCK_OWNER, '#updated': StateTable.UPDATED_AT, '#token': StateTable.PAUSE_TOKEN, '#step': StateTable.PAUSED_STEP },
      ExpressionAttributeValues: {
        ':token': { S: taskToken },
        ':step': { N: String(step) },
        ':updated': { S: new Date(clock().now()).toISOString() },
        ':owner': { S: owner },
      },
    })));
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const holder = await readLock(config);
    const held = holder.owner === undefined ? 'nobody holds it' : `execution ${holder.owner} holds it until ${holder.expiresAt === undefined ? 'an unknown time' : iso(holder.expiresAt)}`;
    throw new ZdtError(ErrorName.ROLLOUT_IN_PROGRESS, `Execution ${owner} cannot pause step ${step} of service ${config.service}: it does not hold the service's lock in table ${config.tableName} (${held})`);
  }
  log('info', 'rollout paused', { service: config.service, owner, step });
  return { service: config.service, owner, step };
}

