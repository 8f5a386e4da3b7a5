import {
  AttributeValue, ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, GetItemCommandInput, UpdateItemCommand,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

type Item = Record<string, AttributeValue>;

/**
 * A small stateful fake of one DynamoDB table over aws-sdk-client-mock: GetItem and UpdateItem
 * with the expression subset conditional locks use: `SET a = :v, ...`, `REMOVE a, ...`, and
 * conditions made of `attribute_not_exists(a)`, `attribute_exists(a)`, `a = :v`, `a < :v`,
 * `a > :v` joined by OR / AND (AND binds tighter). Numbers compare as numbers.
 */
export class FakeTable {
  readonly mock = mockClient(DynamoDBClient);
  private readonly items = new Map<string, Item>();

  constructor(private readonly tableName: string, private readonly keyName: string) {
    this.mock.on(GetItemCommand).callsFake((input: GetItemCommandInput) => {
      this.checkTable(input.TableName);
      const item = this.items.get(this.keyOf(input.Key!));
      return item ? { Item: structuredClone(item) } : {};
    });
    this.mock.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => this.update(input));
  }

  put(item: Item): void {
    this.items.set(this.keyOf(item), structuredClone(item));
  }

  get(key: string): Item | undefined {
    return structuredClone(this.items.get(key));
  }

  private checkTable(name: string | undefined): void {
    if (name !== this.tableName) throw new Error(`ResourceNotFoundException: table ${name}`);
  }

  private keyOf(key: Item): string {
    return key[this.keyName].S!;
  }

  private update(input: UpdateItemCommandInput) {
    this.checkTable(input.TableName);
    const id = this.keyOf(input.Key!);
    const current = this.items.get(id);
    const names = input.ExpressionAttributeNames ?? {};
    const values = input.ExpressionAttributeValues ?? {};
    const name = (token: string) => names[token] ?? token;
    if (input.ConditionExpression && !this.holds(input.ConditionExpression, current ?? {}, name, values)) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    const next: Item = { ...(current ?? {}), ...input.Key };
    const expression = input.UpdateExpression ?? '';
    const set = /SET (.*?)(?= REMOVE |$)/.exec(expression)?.[1];
    const remove = /REMOVE (.*?)(?= SET |$)/.exec(expression)?.[1];
    for (const assignment of set?.split(',') ?? []) {
      const [attr, value] = assignment.split('=').map((s) => s.trim());
      next[name(attr)] = values[value];
    }
    for (const attr of remove?.split(',') ?? []) delete next[name(attr.trim())];
    this.items.set(id, next);
    return input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(next) } : {};
  }

  private holds(condition: string, item: Item, name: (t: string) => string, values: Item): boolean {
    return condition.split(/\s+OR\s+/).some((conjunction) => conjunction.split(/\s+AND\s+/).every((term) => {
      const fn = /^(attribute_not_exists|attribute_exists)\((\S+)\)$/.exec(term.trim());
      if (fn) return (fn[1] === 'attribute_exists') === (item[name(fn[2])] !== undefined);
      const cmp = /^(\S+)\s*(=|<|>)\s*(\S+)$/.exec(term.trim());
      if (!cmp) throw new Error(`FakeTable does not understand the condition term "${term}"`);
      const left = item[name(cmp[1])];
      const right = values[cmp[3]];
      if (left === undefined || right === undefined) return false;
      const l = left.N !== undefined ? Number(left.N) : left.S;
      const r = right.N !== undefined ? Number(right.N) : right.S;
      if (cmp[2] === '=') return l === r;
      return cmp[2] === '<' ? l! < r! : l! > r!;
    }));
  }
}
