/**
 * FakeDynamoDb: in-memory DynamoDB tables for the rehearsal (the rollout's lock and state table).
 *
 * GetItem, PutItem, UpdateItem and DeleteItem with DynamoDB's expression language
 * (conditions, updates, projections), its validation (keys must match the schema, placeholders
 * must be defined and used, reserved words need #names) and its errors: ResourceNotFoundException
 * for an unknown table, ConditionalCheckFailedException ("The conditional request failed") when a
 * condition does not hold, ValidationException for malformed requests. Writes are immediately
 * consistent; ConsistentRead is accepted and changes nothing.
 */
import type {
  AttributeDefinition, CreateTableInput, CreateTableOutput, DeleteItemInput, DeleteItemOutput, DeleteTableInput,
  DeleteTableOutput, DescribeTableInput, DescribeTableOutput, GetItemInput, GetItemOutput, KeySchemaElement, PutItemInput,
  PutItemOutput, TableDescription, UpdateItemInput, UpdateItemOutput,
} from '@aws-sdk/client-dynamodb';
import type { Clock } from '../../lambda/shared/clock';
import { awsError } from './aws-errors';
import {
  applyUpdate, evaluateCondition, ExpressionContext, parseCondition, parseProjection, parseUpdate, project, updatedPaths,
} from './dynamodb-expressions';
import { AttrValue, Item, keyString, normalizeValue, typeOf, validationException } from './dynamodb-values';
import { deepClone } from './clone';

/** DynamoDB table name rules. */
export const MIN_TABLE_NAME_LENGTH = 3;
export const MAX_TABLE_NAME_LENGTH = 255;

export interface FakeDynamoDbOptions {
  readonly clock: Clock;
  /** @default us-east-1 */
  readonly region?: string;
  /** @default 123456789012 */
  readonly accountId?: string;
}

/** A key attribute of the `createTable` helper: its name, and its type (S by default). */
export type KeyAttribute = string | { readonly name: string; readonly type: 'S' | 'N' | 'B' };

interface TableState {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: number;
  readonly keySchema: KeySchemaElement[];
  readonly attributeDefinitions: AttributeDefinition[];
  readonly billingMode: string;
  readonly items: Map<string, Item>;
}

type ReturnValues = 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';

export class FakeDynamoDb {
  readonly region: string;
  readonly accountId: string;
  private readonly clock: Clock;
  private readonly tables = new Map<string, TableState>();

  constructor(options: FakeDynamoDbOptions) {
    this.clock = options.clock;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
  }

  // -------------------------------------------------------------------------------------------
  // Tables
  // -------------------------------------------------------------------------------------------

  /** Simulation helper: creates a table keyed by `partitionKey` (and `sortKey`), strings unless said otherwise. */
  createTable(name: string, partitionKey: KeyAttribute, sortKey?: KeyAttribute): TableDescription;
  /** The CreateTable API. */
  createTable(input: CreateTableInput): CreateTableOutput;
  createTable(nameOrInput: string | CreateTableInput, partitionKey?: KeyAttribute, sortKey?: KeyAttribute): TableDescription | CreateTableOutput {
    if (typeof nameOrInput === 'string') {
      const keys = [partitionKey!, ...(sortKey === undefined ? [] : [sortKey])].map((k) => (typeof k === 'string' ? { name: k, type: 'S' as const } : k));
      return this.createTable({
        TableName: nameOrInput,
        KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        BillingMode: 'PAY_PER_REQUEST',
      }).TableDescription!;
    }
    const input = nameOrInput;
    const name = this.checkTableName(input.TableName);
    if (this.tables.has(name)) throw awsError('dynamodb', 'ResourceInUseException', `Table already exists: ${name}`);
    const schema = input.KeySchema ?? [];
    if (schema.length < 1 || schema.length > 2 || schema[0].KeyType !== 'HASH' || (schema[1] && schema[1].KeyType !== 'RANGE')) {
      throw validationException('1 validation error detected: KeySchema must have one HASH key, optionally followed by one RANGE key');
    }
    const definitions = input.AttributeDefinitions ?? [];
    for (const d of definitions) {
      if (!['S', 'N', 'B'].includes(String(d.AttributeType))) {
        throw validationException(`One or more parameter values were invalid: Invalid AttributeType ${String(d.AttributeType)} for attribute ${String(d.AttributeName)}; key attributes must be S, N or B`);
      }
    }
    const indexed = new Set([
      ...schema.map((k) => k.AttributeName),
      ...(input.GlobalSecondaryIndexes ?? []).flatMap((i) => (i.KeySchema ?? []).map((k) => k.AttributeName)),
      ...(input.LocalSecondaryIndexes ?? []).flatMap((i) => (i.KeySchema ?? []).map((k) => k.AttributeName)),
    ]);
    if (definitions.length !== indexed.size || !definitions.every((d) => indexed.has(d.AttributeName))) {
      throw validationException('One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions');
    }
    const billingMode = input.BillingMode ?? 'PROVISIONED';
    if (billingMode === 'PROVISIONED' && !input.ProvisionedThroughput) {
      throw validationException('One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED');
    }
    if (billingMode === 'PAY_PER_REQUEST' && input.ProvisionedThroughput) {
      throw validationException('One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST');
    }
    const table: TableState = {
      name,
      arn: `arn:aws:dynamodb:${this.region}:${this.accountId}:table/${name}`,
      createdAt: this.clock.now(),
      keySchema: schema.map((k) => ({ ...k })),
      attributeDefinitions: definitions.map((d) => ({ ...d })),
      billingMode,
      items: new Map(),
    };
    this.tables.set(name, table);
    return { TableDescription: this.describe(table) };
  }

  describeTable(input: DescribeTableInput): DescribeTableOutput {
    return { Table: this.describe(this.table(input.TableName)) };
  }

  deleteTable(input: DeleteTableInput): DeleteTableOutput {
    const table = this.table(input.TableName);
    this.tables.delete(table.name);
    return { TableDescription: { ...this.describe(table), TableStatus: 'DELETING' } };
  }

  // -------------------------------------------------------------------------------------------
  // Items
  // -------------------------------------------------------------------------------------------

  getItem(input: GetItemInput): GetItemOutput {
    const table = this.table(input.TableName);
    this.rejectLegacy(input, ['AttributesToGet']);
    const key = this.checkKey(table, input.Key as Item | undefined);
    const ctx = this.context(input.ExpressionAttributeNames, undefined, input.ProjectionExpression !== undefined);
    const projection = input.ProjectionExpression === undefined ? undefined : parseProjection(input.ProjectionExpression, ctx);
    ctx.checkAllUsed();
    const item = table.items.get(this.itemKey(table, key));
    if (!item) return {};
    return { Item: deepClone(projection ? project(item, projection) : item) as GetItemOutput['Item'] };
  }

  putItem(input: PutItemInput): PutItemOutput {
    const table = this.table(input.TableName);
    this.rejectLegacy(input, ['Expected', 'ConditionalOperator']);
    const returnValues = this.returnValues(input.ReturnValues, ['NONE', 'ALL_OLD']);
    if (!input.Item) throw validationException('1 validation error detected: Value null at \'item\' failed to satisfy constraint: Member must not be null');
    const item = this.normalizeItem(input.Item as Item);
    const key = this.keyOf(table, item, 'item');
    const ctx = this.context(input.ExpressionAttributeNames, input.ExpressionAttributeValues as Record<string, AttrValue> | undefined, input.ConditionExpression !== undefined);
    const { id, old } = this.conditionalTarget(table, key, ctx, input);
    table.items.set(id, item);
    return returnValues === 'ALL_OLD' && old ? { Attributes: deepClone(old) as PutItemOutput['Attributes'] } : {};
  }

  updateItem(input: UpdateItemInput): UpdateItemOutput {
    const table = this.table(input.TableName);
    this.rejectLegacy(input, ['AttributeUpdates', 'Expected', 'ConditionalOperator']);
    const returnValues = this.returnValues(input.ReturnValues, ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW']);
    const key = this.checkKey(table, input.Key as Item | undefined);
    const hasExpression = input.UpdateExpression !== undefined || input.ConditionExpression !== undefined;
    const ctx = this.context(input.ExpressionAttributeNames, input.ExpressionAttributeValues as Record<string, AttrValue> | undefined, hasExpression);
    const actions = input.UpdateExpression === undefined ? [] : parseUpdate(input.UpdateExpression, ctx);
    const { id, old } = this.conditionalTarget(table, key, ctx, input);
    const next = applyUpdate(actions, old, key);
    table.items.set(id, next);
    const paths = updatedPaths(actions);
    switch (returnValues) {
      case 'ALL_OLD': return old ? { Attributes: deepClone(old) as UpdateItemOutput['Attributes'] } : {};
      case 'ALL_NEW': return { Attributes: deepClone(next) as UpdateItemOutput['Attributes'] };
      case 'UPDATED_OLD': {
        const attributes = old ? project(old, paths) : {};
        return Object.keys(attributes).length ? { Attributes: attributes as UpdateItemOutput['Attributes'] } : {};
      }
      case 'UPDATED_NEW': {
        const attributes = project(next, paths);
        return Object.keys(attributes).length ? { Attributes: attributes as UpdateItemOutput['Attributes'] } : {};
      }
      default: return {};
    }
  }

  deleteItem(input: DeleteItemInput): DeleteItemOutput {
    const table = this.table(input.TableName);
    this.rejectLegacy(input, ['Expected', 'ConditionalOperator']);
    const returnValues = this.returnValues(input.ReturnValues, ['NONE', 'ALL_OLD']);
    const key = this.checkKey(table, input.Key as Item | undefined);
    const ctx = this.context(input.ExpressionAttributeNames, input.ExpressionAttributeValues as Record<string, AttrValue> | undefined, input.ConditionExpression !== undefined);
    const { id, old } = this.conditionalTarget(table, key, ctx, input);
    table.items.delete(id);
    return returnValues === 'ALL_OLD' && old ? { Attributes: deepClone(old) as DeleteItemOutput['Attributes'] } : {};
  }

  // -------------------------------------------------------------------------------------------
  // Simulation API (not AWS)
  // -------------------------------------------------------------------------------------------

  /** Every item of a table (copies), in insertion order. */
  items(tableName: string): Item[] {
    const table = this.tables.get(tableName);
    if (!table) throw new Error(`FakeDynamoDb.items: table ${tableName} does not exist`);
    return [...table.items.values()].map((i) => deepClone(i));
  }

  // -------------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------------

  private checkTableName(name: string | undefined): string {
    if (name === undefined || name.length < MIN_TABLE_NAME_LENGTH || name.length > MAX_TABLE_NAME_LENGTH || !/^[a-zA-Z0-9_.-]+$/.test(name)) {
      throw validationException(`1 validation error detected: Value '${String(name)}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length between ${MIN_TABLE_NAME_LENGTH} and ${MAX_TABLE_NAME_LENGTH}`);
    }
    return name;
  }

  private table(name: string | undefined): TableState {
    const checked = name === undefined ? undefined : name.startsWith('arn:') ? name.split('/').pop() : name;
    if (checked === undefined) throw validationException('1 validation error detected: Value null at \'tableName\' failed to satisfy constraint: Member must not be null');
    const table = this.tables.get(checked);
    if (!table) throw awsError('dynamodb', 'ResourceNotFoundException', `Requested resource not found: Table: ${checked} not found`);
    return table;
  }

  private describe(table: TableState): TableDescription {
    return {
      TableName: table.name,
      TableArn: table.arn,
      TableId: `00000000-0000-4000-8000-${table.createdAt.toString(16).padStart(12, '0').slice(-12)}`,
      TableStatus: 'ACTIVE',
      CreationDateTime: new Date(table.createdAt),
      KeySchema: table.keySchema.map((k) => ({ ...k })),
      AttributeDefinitions: table.attributeDefinitions.map((d) => ({ ...d })),
      ItemCount: table.items.size,
      TableSizeBytes: [...table.items.values()].reduce((n, i) => n + JSON.stringify(i).length, 0),
      BillingModeSummary: { BillingMode: table.billingMode as 'PROVISIONED' | 'PAY_PER_REQUEST', LastUpdateToPayPerRequestDateTime: new Date(table.createdAt) },
    };
  }

  private keyType(table: TableState, attribute: string): string {
    return table.attributeDefinitions.find((d) => d.AttributeName === attribute)?.AttributeType ?? 'S';
  }

  /** Validates a Key parameter: exactly the key attributes, with the right types. */
  private checkKey(table: TableState, key: Item | undefined): Item {
    if (!key) throw validationException('1 validation error detected: Value null at \'key\' failed to satisfy constraint: Member must not be null');
    const names = table.keySchema.map((k) => k.AttributeName!);
    const given = Object.keys(key);
    if (given.length !== names.length || !names.every((n) => key[n] !== undefined)) {
      throw validationException('The provided key element does not match the schema');
    }
    const normalized: Item = {};
    for (const n of names) {
      const value = normalizeValue(key[n]);
      if (typeOf(value) !== this.keyType(table, n)) throw validationException('The provided key element does not match the schema');
      this.checkKeyValue(n, value);
      normalized[n] = value;
    }
    return normalized;
  }

  /** The key of a full item (PutItem): every key attribute present with its type. */
  private keyOf(table: TableState, item: Item, parameter: string): Item {
    const key: Item = {};
    for (const { AttributeName } of table.keySchema) {
      const name = AttributeName!;
      const value = item[name];
      if (value === undefined) throw validationException(`One or more parameter values were invalid: Missing the key ${name} in the ${parameter}`);
      const expected = this.keyType(table, name);
      if (typeOf(value) !== expected) {
        throw validationException(`One or more parameter values were invalid: Type mismatch for key ${name} expected: ${expected} actual: ${typeOf(value)}`);
      }
      this.checkKeyValue(name, value);
      key[name] = value;
    }
    return key;
  }

  private checkKeyValue(name: string, value: AttrValue): void {
    if ((value.S !== undefined && value.S.length === 0) || (value.B !== undefined && value.B.length === 0)) {
      throw validationException(`One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${value.S !== undefined ? 'string' : 'binary'} value. Key: ${name}`);
    }
  }

  private itemKey(table: TableState, key: Item): string {
    return table.keySchema.map((k) => keyString(key[k.AttributeName!])).join('|');
  }

  private normalizeItem(item: Item): Item {
    const out: Item = {};
    for (const [k, v] of Object.entries(item)) out[k] = normalizeValue(v);
    return out;
  }

  private context(names: Record<string, string> | undefined, values: Record<string, AttrValue> | undefined, hasExpression: boolean): ExpressionContext {
    if (!hasExpression) {
      if (values && Object.keys(values).length) throw validationException('ExpressionAttributeValues can only be specified when using expressions');
      if (names && Object.keys(names).length) throw validationException('ExpressionAttributeNames can only be specified when using expressions');
    }
    if (values && Object.keys(values).length === 0) throw validationException('ExpressionAttributeValues must not be empty');
    if (names && Object.keys(names).length === 0) throw validationException('ExpressionAttributeNames must not be empty');
    return new ExpressionContext(names, values);
  }

  private returnValues(value: string | undefined, allowed: readonly ReturnValues[]): ReturnValues {
    const v = (value ?? 'NONE') as ReturnValues;
    if (!allowed.includes(v)) throw validationException(`Return values set to invalid value: ${value}; this operation accepts ${allowed.join(', ')}`);
    return v;
  }

  private rejectLegacy(input: object, parameters: readonly string[]): void {
    for (const p of parameters) {
      if ((input as Record<string, unknown>)[p] !== undefined) {
        throw awsError('dynamodb', 'FakeNotImplemented', `FakeDynamoDb does not simulate the legacy parameter ${p}; use expressions (ConditionExpression, UpdateExpression, ProjectionExpression, FilterExpression)`);
      }
    }
  }

  /**
   * The target of a conditional write (PutItem, UpdateItem, DeleteItem): parses its ConditionExpression against
   * `ctx` (after the request's other expressions), checks every placeholder was used, and returns the item's
   * storage id and current version once the condition holds; otherwise throws ConditionalCheckFailedException.
   */
  private conditionalTarget(table: TableState, key: Item, ctx: ExpressionContext,
    input: { readonly ConditionExpression?: string; readonly ReturnValuesOnConditionCheckFailure?: string }): { id: string; old: Item | undefined } {
    const condition = input.ConditionExpression === undefined ? undefined : parseCondition(input.ConditionExpression, ctx);
    ctx.checkAllUsed();
    const id = this.itemKey(table, key);
    const old = table.items.get(id);
    if (condition && !evaluateCondition(condition, old)) throw this.conditionFailed(old, input.ReturnValuesOnConditionCheckFailure);
    return { id, old };
  }

  private conditionFailed(old: Item | undefined, returnOnFailure: string | undefined): Error {
    const extra = returnOnFailure === 'ALL_OLD' && old ? { Item: deepClone(old) } : undefined;
    return awsError('dynamodb', 'ConditionalCheckFailedException', 'The conditional request failed', { extra });
  }
}
