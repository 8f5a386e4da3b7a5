import {
  ConditionalCheckFailedException, CreateTableCommand, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand,
  ResourceNotFoundException, UpdateItemCommand, UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { AwsFakes } from '../../rehearsal/fakes';
import { ManualClock } from './manual-clock';
import { expectError } from './expect-error';

const TABLE = 'zdt-rollout-state';
const KEY = { service: { S: 'shop' } };


describe('FakeDynamoDb', () => {
  let clock: ManualClock;
  let aws: AwsFakes;
  let ddb: DynamoDBClient;

  /** The lock acquisition the rollout's lock handler performs. */
  const acquire = (owner: string, ttlSeconds = 3600): UpdateItemCommandInput => {
    const now = Math.floor(clock.now() / 1000);
    return {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression: 'SET lockOwner = :owner, lockExpiresAt = :expires, updatedAt = :updatedAt',
      ConditionExpression: 'attribute_not_exists(lockOwner) OR lockExpiresAt < :now OR lockOwner = :owner',
      ExpressionAttributeValues: {
        ':owner': { S: owner }, ':expires': { N: String(now + ttlSeconds) }, ':now': { N: String(now) }, ':updatedAt': { S: new Date(clock.now()).toISOString() },
      },
      ReturnValues: 'ALL_NEW',
    };
  };

  beforeEach(() => {
    clock = new ManualClock();
    aws = new AwsFakes({ clock }).install();
    aws.dynamodb.createTable(TABLE, 'service');
    ddb = new DynamoDBClient({ region: 'us-east-1' });
  });

  afterEach(() => aws.restore());

  test('takes a free lock, refuses a held one with ConditionalCheckFailedException, and takes an expired one', async () => {
    const first = await ddb.send(new UpdateItemCommand(acquire('exec-1')));
    expect(first.Attributes).toMatchObject({ service: { S: 'shop' }, lockOwner: { S: 'exec-1' } });
    const err = await expectError(ddb.send(new UpdateItemCommand(acquire('exec-2'))), 'ConditionalCheckFailedException', /^The conditional request failed$/);
    expect(err).toBeInstanceOf(ConditionalCheckFailedException);
    expect((err as ConditionalCheckFailedException).$metadata.httpStatusCode).toBe(400);
    await ddb.send(new UpdateItemCommand(acquire('exec-1'))); // re-entrant for a retried task
    clock.advanceSeconds(3601);
    const taken = await ddb.send(new UpdateItemCommand(acquire('exec-2')));
    expect(taken.Attributes!.lockOwner).toEqual({ S: 'exec-2' });
  });

  test('returns the old item on a failed condition when asked (ReturnValuesOnConditionCheckFailure)', async () => {
    await ddb.send(new UpdateItemCommand(acquire('exec-1')));
    const err = await expectError(ddb.send(new UpdateItemCommand({ ...acquire('exec-2'), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })), 'ConditionalCheckFailedException');
    expect((err as ConditionalCheckFailedException).Item).toMatchObject({ lockOwner: { S: 'exec-1' } });
  });

  test('applies SET with arithmetic and if_not_exists, REMOVE and ADD in one expression, from the item as it was', async () => {
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...KEY, attempts: { N: '2' }, pauseToken: { S: 't' }, pausedStep: { N: '3' }, a: { N: '1' }, b: { N: '5' } } }));
    const out = await ddb.send(new UpdateItemCommand({
      TableName: TABLE,
      Key: KEY,
      UpdateExpression: 'SET attempts = attempts + :one, liveColor = if_not_exists(liveColor, :blue), a = b, b = a REMOVE pauseToken, pausedStep ADD deploys :one',
      ExpressionAttributeValues: { ':one': { N: '1' }, ':blue': { S: 'blue' } },
      ReturnValues: 'ALL_NEW',
    }));
    expect(out.Attributes).toEqual({ ...KEY, attempts: { N: '3' }, liveColor: { S: 'blue' }, a: { N: '5' }, b: { N: '1' }, deploys: { N: '1' } });
    const again = await ddb.send(new UpdateItemCommand({
      TableName: TABLE, Key: KEY, UpdateExpression: 'SET liveColor = if_not_exists(liveColor, :green)', ExpressionAttributeValues: { ':green': { S: 'green' } }, ReturnValues: 'UPDATED_NEW',
    }));
    expect(again.Attributes).toEqual({ liveColor: { S: 'blue' } });
  });

  test.each([
    ['NONE', undefined],
    ['ALL_OLD', { ...KEY, liveColor: { S: 'blue' }, lockOwner: { S: 'x' } }],
    ['UPDATED_OLD', { liveColor: { S: 'blue' } }],
    ['ALL_NEW', { ...KEY, liveColor: { S: 'green' }, lockOwner: { S: 'x' } }],
    ['UPDATED_NEW', { liveColor: { S: 'green' } }],
  ] as const)('answers ReturnValues %s like DynamoDB', async (returnValues, expected) => {
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...KEY, liveColor: { S: 'blue' }, lockOwner: { S: 'x' } } }));
    const out = await ddb.send(new UpdateItemCommand({
      TableName: TABLE, Key: KEY, UpdateExpression: 'SET liveColor = :c', ExpressionAttributeValues: { ':c': { S: 'green' } }, ReturnValues: returnValues,
    }));
    expect(out.Attributes).toEqual(expected);
  });

  test('evaluates conditions with comparisons, NOT, parentheses, BETWEEN, IN and functions', async () => {
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...KEY, step: { N: '3' }, liveColor: { S: 'blue' }, owner: { S: 'arn:aws:states:exec-1' }, tags: { SS: ['a', 'b'] } } }));
    const holds = async (condition: string, values: Record<string, { S?: string; N?: string }> = {}, names?: Record<string, string>) => ddb.send(new UpdateItemCommand({
      TableName: TABLE, Key: KEY, UpdateExpression: 'SET checkedAt = :t', ConditionExpression: condition,
      ExpressionAttributeValues: { ':t': { N: '1' }, ...values }, ExpressionAttributeNames: names,
    })).then(() => true, (e: Error) => { if (e.name === 'ConditionalCheckFailedException') return false; throw e; });
    expect(await holds('step BETWEEN :lo AND :hi', { ':lo': { N: '1' }, ':hi': { N: '3' } })).toBe(true);
    expect(await holds('step > :n', { ':n': { N: '10' } })).toBe(false);
    expect(await holds('liveColor IN (:g, :b)', { ':g': { S: 'green' }, ':b': { S: 'blue' } })).toBe(true);
    expect(await holds('NOT (liveColor = :b) OR begins_with(#o, :p)', { ':b': { S: 'blue' }, ':p': { S: 'arn:aws:states:' } }, { '#o': 'owner' })).toBe(true);
    expect(await holds('contains(tags, :a) AND size(tags) = :two AND attribute_type(step, :n)', { ':a': { S: 'a' }, ':two': { N: '2' }, ':n': { S: 'N' } })).toBe(true);
    expect(await holds('absent <> :x', { ':x': { S: 'x' } })).toBe(true);
    expect(await holds('absent = :x', { ':x': { S: 'x' } })).toBe(false);
    expect(await holds('step < :s', { ':s': { S: 'text' } })).toBe(false); // different types never compare
  });

  test.each([
    ['a reserved word used as a name', { UpdateExpression: 'SET status = :v', ExpressionAttributeValues: { ':v': { S: 'x' } } }, /Attribute name is a reserved keyword; reserved keyword: status/],
    ['an undefined value placeholder', { UpdateExpression: 'SET a = :missing' }, /An expression attribute value used in expression is not defined; attribute value: :missing/],
    ['an undefined name placeholder', { UpdateExpression: 'SET #a = :v', ExpressionAttributeValues: { ':v': { S: 'x' } } }, /attribute name: #a/],
    ['an unused value', { UpdateExpression: 'SET a = :v', ExpressionAttributeValues: { ':v': { S: 'x' }, ':w': { S: 'y' } } }, /unused in expressions: keys: \{:w\}/],
    ['a syntax error', { UpdateExpression: 'SET a = = :v', ExpressionAttributeValues: { ':v': { S: 'x' } } }, /Invalid UpdateExpression: Syntax error; token: "="/],
    ['two SET sections', { UpdateExpression: 'SET a = :v SET b = :v', ExpressionAttributeValues: { ':v': { S: 'x' } } }, /The "SET" section can only be used once/],
    ['overlapping paths', { UpdateExpression: 'SET a = :v REMOVE a', ExpressionAttributeValues: { ':v': { S: 'x' } } }, /Two document paths overlap .* path one: \[a\], path two: \[a\]/],
    ['an update of the key', { UpdateExpression: 'SET service = :v', ExpressionAttributeValues: { ':v': { S: 'x' } } }, /Cannot update attribute service. This attribute is part of the key/],
    ['arithmetic on a string', { UpdateExpression: 'SET a = :v + :n', ExpressionAttributeValues: { ':v': { S: 'x' }, ':n': { N: '1' } } }, /operator or function: \+, operand type: S/],
    ['arithmetic on a missing attribute', { UpdateExpression: 'SET a = nope + :n', ExpressionAttributeValues: { ':n': { N: '1' } } }, /refers to an attribute that does not exist/],
    ['a condition with an unknown function', { UpdateExpression: 'SET a = :v', ConditionExpression: 'exists(a)', ExpressionAttributeValues: { ':v': { S: 'x' } } }, /Invalid function name; function: exists/],
  ])('rejects %s with a ValidationException that says what is wrong', async (_label, params, message) => {
    await expectError(ddb.send(new UpdateItemCommand({ TableName: TABLE, Key: KEY, ...params } as UpdateItemCommandInput)), 'ValidationException', message);
    expect(aws.dynamodb.items(TABLE)).toEqual([]);
  });

  test('requires keys that match the schema', async () => {
    await expectError(ddb.send(new GetItemCommand({ TableName: TABLE, Key: { service: { N: '1' } } })), 'ValidationException', /does not match the schema/);
    await expectError(ddb.send(new GetItemCommand({ TableName: TABLE, Key: { ...KEY, extra: { S: 'x' } } })), 'ValidationException', /does not match the schema/);
    await expectError(ddb.send(new PutItemCommand({ TableName: TABLE, Item: { other: { S: 'x' } } })), 'ValidationException', /Missing the key service in the item/);
    await expectError(ddb.send(new PutItemCommand({ TableName: TABLE, Item: { service: { S: '' } } })), 'ValidationException', /empty string value. Key: service/);
  });

  test('answers an unknown table with ResourceNotFoundException and an existing one with ResourceInUseException on create', async () => {
    const err = await expectError(ddb.send(new GetItemCommand({ TableName: 'nope', Key: KEY })), 'ResourceNotFoundException', /Table: nope not found/);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    await expectError(ddb.send(new CreateTableCommand({
      TableName: TABLE, KeySchema: [{ AttributeName: 'service', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'service', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST',
    })), 'ResourceInUseException', /Table already exists/);
  });

  test('stores DynamoDB JSON of every type, normalizes numbers and adds decimals exactly', async () => {
    const item = {
      ...KEY, m: { M: { nested: { L: [{ BOOL: true }, { NULL: true }] } } }, ss: { SS: ['x', 'y'] }, ns: { NS: ['1', '2.50'] },
      n: { N: '0.1' }, big: { N: '12345678901234567890123456789012345678' }, b: { B: new Uint8Array([1, 2]) },
    };
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: item }));
    await ddb.send(new UpdateItemCommand({ TableName: TABLE, Key: KEY, UpdateExpression: 'SET n = n + :x, big = big - :one', ExpressionAttributeValues: { ':x': { N: '0.20' }, ':one': { N: '1' } } }));
    const out = (await ddb.send(new GetItemCommand({ TableName: TABLE, Key: KEY, ConsistentRead: true }))).Item!;
    expect(out.n).toEqual({ N: '0.3' });
    expect(out.big).toEqual({ N: '12345678901234567890123456789012345677' });
    expect(out.ns).toEqual({ NS: ['1', '2.5'] });
    expect(out.m).toEqual(item.m);
    expect(out.b.B).toEqual(new Uint8Array([1, 2]));
    await expectError(ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...KEY, s: { SS: [] } } })), 'ValidationException', /string set {2}may not be empty/);
    await expectError(ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...KEY, s: { S: 'a', N: '1' } as never } })), 'ValidationException', /more than one datatypes/);
  });

  test('puts and deletes conditionally and returns old items', async () => {
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...KEY, v: { N: '1' } }, ConditionExpression: 'attribute_not_exists(service)' }));
    await expectError(ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...KEY, v: { N: '2' } }, ConditionExpression: 'attribute_not_exists(service)' })), 'ConditionalCheckFailedException');
    const replaced = await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...KEY, v: { N: '2' } }, ReturnValues: 'ALL_OLD' }));
    expect(replaced.Attributes).toEqual({ ...KEY, v: { N: '1' } });
    await expectError(ddb.send(new DeleteItemCommand({ TableName: TABLE, Key: KEY, ConditionExpression: 'v = :one', ExpressionAttributeValues: { ':one': { N: '1' } } })), 'ConditionalCheckFailedException');
    const deleted = await ddb.send(new DeleteItemCommand({ TableName: TABLE, Key: KEY, ConditionExpression: 'v = :two', ExpressionAttributeValues: { ':two': { N: '2.0' } }, ReturnValues: 'ALL_OLD' }));
    expect(deleted.Attributes).toEqual({ ...KEY, v: { N: '2' } });
    expect((await ddb.send(new GetItemCommand({ TableName: TABLE, Key: KEY }))).Item).toBeUndefined();
    await expectError(ddb.send(new PutItemCommand({ TableName: TABLE, Item: KEY, ReturnValues: 'ALL_NEW' })), 'ValidationException', /Return values set to invalid value/);
  });

  test('projects what GetItem returns (the state machine reads the abort flag this way)', async () => {
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { service: { S: 'a' }, liveColor: { S: 'blue' }, info: { M: { team: { S: 't' }, size: { N: '1' } } } } }));
    const got = await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { service: { S: 'a' } }, ProjectionExpression: 'liveColor, info.#t', ExpressionAttributeNames: { '#t': 'team' } }));
    expect(got.Item).toEqual({ liveColor: { S: 'blue' }, info: { M: { team: { S: 't' } } } });
  });
});
